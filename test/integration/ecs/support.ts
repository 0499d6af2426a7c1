import { afterAll, beforeAll, type TestContext } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StateChange } from '../../../src/api/events.js';
import type { ContainerView, TaskView } from '../../../src/api/view.js';
import { AgentProcess, docker } from '../../support/agent-process.js';
import { readFeed } from '../../support/docker-truth.js';
import { TEST_IMAGE } from '../global-setup.js';

/** The 77 real definitions, read where they are (never copied into the repository). */
const TASKDEFS = new URL('../../../../shared/ecs-taskdefs/', import.meta.url);

export type EcsDefinition = Record<string, unknown> & { containerDefinitions: Array<Record<string, unknown>> };

/** The definition whose file starts with `number` (e.g. `"005"`), parsed as written. */
export function taskDefinition(number: string): EcsDefinition {
  const file = readdirSync(TASKDEFS).find((f) => f.startsWith(`${number}-`) && f.endsWith('.json'));
  if (!file) throw new Error(`no task definition ${number}-*.json in ${TASKDEFS.pathname}`);
  return JSON.parse(readFileSync(new URL(file, TASKDEFS), 'utf8')) as EcsDefinition;
}

/** The definition as written, with only each container's image pointed at the test image. */
export function onTestImage(def: EcsDefinition): EcsDefinition {
  return { ...def, containerDefinitions: def.containerDefinitions.map((c) => ({ ...c, image: TEST_IMAGE })) };
}

const RUN = `${process.pid}-${Date.now().toString(36)}`;

/**
 * One built agent for a test file, and the clean-up of everything it made: each task's containers
 * and volumes when its test ends (pass or fail), and at the end the agent, anything left with its
 * ID, and its data directory.
 */
export class EcsAgent {
  private constructor(
    readonly agent: AgentProcess,
    readonly id: string,
    private readonly root: string,
  ) {}

  static async start(name: string, args: readonly string[] = []): Promise<EcsAgent> {
    const root = mkdtempSync(join(tmpdir(), `berth-ecs-${name}-`));
    const agent = new AgentProcess(join(root, 'data'), args);
    try {
      await agent.start();
      const id = (await agent.client.get<{ agentId: string }>('/v1/metadata')).body.agentId;
      return new EcsAgent(agent, id, root);
    } catch (error) {
      await agent.stop('SIGKILL');
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  /** A fresh arn for this run: the same definition posted by two runs never collides. */
  arn(label: string): string {
    return `arn:berth:task/ecs-it-${RUN}-${label}`;
  }

  /** Posts the task and expects it accepted; returns the answer (the task view plus warnings). */
  async post(body: Record<string, unknown>): Promise<TaskView & { warnings: unknown[] }> {
    const res = await this.agent.client.post<TaskView & { warnings: unknown[] }>('/v1/tasks', body);
    if (res.status !== 201) throw new Error(`POST /v1/tasks answered ${res.status}: ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Posts a task for one test under a fresh arn, its family `ecs-it-<label>`, and removes what it made when the test ends. */
  async postFor(ctx: TestContext, label: string, def: Record<string, unknown>): Promise<string> {
    const arn = this.arn(label);
    ctx.onTestFinished(() => this.removeTask(arn));
    await this.post({ family: `ecs-it-${label}`, ...def, arn });
    return arn;
  }

  async stopTask(arn: string): Promise<void> {
    const res = await this.agent.client.post('/v1/tasks', { arn, desiredStatus: 'STOPPED' });
    if (res.status !== 200 && res.status !== 201) throw new Error(`stopping ${arn} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  waitFor(arn: string, predicate: (t: TaskView) => boolean, ms = 60_000): Promise<TaskView> {
    return this.agent.waitForTask(arn, (t) => t !== undefined && predicate(t), ms) as Promise<TaskView>;
  }

  waitStopped(arn: string, ms = 60_000): Promise<TaskView> {
    return this.waitFor(arn, (t) => t.knownStatus === 'STOPPED', ms);
  }

  /** This task's events on the feed. */
  async events(arn: string): Promise<StateChange[]> {
    return (await readFeed(this.agent.client)).filter((e) => e.taskArn === arn);
  }

  /** Force-removes one task's containers, then its task-scoped volumes: what the task made, nothing else. */
  removeTask(arn: string): void {
    const mine = ['--filter', `label=berth.agent-id=${this.id}`, '--filter', `label=berth.task-arn=${arn}`];
    for (const id of lines(docker('ps', '-aq', ...mine))) docker('rm', '-f', '-v', id);
    for (const v of lines(docker('volume', 'ls', '-q', ...mine))) docker('volume', 'rm', '-f', v);
  }

  /** Kills the agent (its in-flight stops would otherwise hold the shutdown), then removes all it left. */
  async close(): Promise<void> {
    await this.agent.stop('SIGKILL');
    const mine = ['--filter', `label=berth.agent-id=${this.id}`];
    for (const id of lines(docker('ps', '-aq', ...mine))) docker('rm', '-f', '-v', id);
    for (const v of lines(docker('volume', 'ls', '-q', ...mine))) docker('volume', 'rm', '-f', v);
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function lines(out: string): string[] {
  return out ? out.split('\n').filter(Boolean) : [];
}

export function container(t: TaskView, name: string): ContainerView {
  const c = t.containers.find((x) => x.name === name);
  if (!c) throw new Error(`task ${t.arn} has no container ${name}: ${JSON.stringify(t.containers.map((x) => x.name))}`);
  return c;
}

/** `docker inspect` of a container, parsed. */
export function inspect(id: string): DockerInspect {
  return (JSON.parse(docker('inspect', id)) as DockerInspect[])[0]!;
}

/** The parts of `docker inspect` these tests read. */
export interface DockerInspect {
  Id: string;
  Name: string;
  State: { ExitCode: number; OOMKilled: boolean };
  Config: {
    Labels: Record<string, string>;
    Healthcheck?: { Test: string[]; Interval: number; Timeout: number; Retries: number; StartPeriod: number };
  };
  HostConfig: Record<string, unknown> & { LogConfig: { Type: string; Config: Record<string, string> } };
  Mounts: Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>;
  NetworkSettings: { Ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
}

/** Fails, naming the port, when anything on the host (a process or a container) holds `port` on 127.0.0.1. */
export async function expectPortFree(port: number): Promise<void> {
  const holders = docker('ps', '-q', '--filter', `publish=${port}`);
  if (holders) throw new Error(`host port ${port} is published by container(s) ${holders.replace(/\n/g, ' ')}; the test needs it free`);
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) => reject(new Error(`host port ${port} is taken on 127.0.0.1 (${error.message}); the test needs it free`)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** A port nothing listens on right now, picked by the kernel. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Docker's own record of what happened between two past moments (seconds since the epoch). */
export function dockerEvents(sinceS: number, untilS: number, filters: readonly string[]): Array<{ Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; timeNano: number }> {
  const out = docker('events', '--since', sinceS.toFixed(3), '--until', untilS.toFixed(3), ...filters.flatMap((f) => ['--filter', f]), '--format', '{{json .}}');
  return lines(out).map((l) => JSON.parse(l) as ReturnType<typeof dockerEvents>[number]);
}

/** Each failed or successful `docker start` of a container on a bridge network leaves one `network disconnect` with its ID. */
export function startAttempts(dockerId: string, sinceS: number): number {
  return dockerEvents(sinceS, Date.now() / 1000, ['type=network', 'event=disconnect']).filter((e) => e.Actor.Attributes.container === dockerId).length;
}

export const ms = (iso: string | undefined): number => {
  if (iso === undefined) throw new Error('expected a timestamp');
  return Date.parse(iso);
};

/** The one agent of a test file: started before its tests, closed (with all it left) after them. */
export function fileAgent(name: string, args: readonly string[] = []): () => EcsAgent {
  let ecs: EcsAgent | undefined;
  beforeAll(async () => {
    ecs = await EcsAgent.start(name, args);
  });
  afterAll(async () => {
    await ecs?.close();
  });
  return () => {
    if (!ecs) throw new Error(`the ${name} agent has not started`);
    return ecs;
  };
}
