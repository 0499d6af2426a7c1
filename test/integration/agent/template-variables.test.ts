import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../../src/agent.js';
import type { ContainerView, TaskView } from '../../../src/api/view.js';
import { resolveConfig } from '../../../src/config/config.js';
import { ControlClient } from '../../../src/control/client.js';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { silentLogger } from '../../../src/log/logger.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { docker, removeContainersOf } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * Template variables on real Docker: `app`'s environment names facts of `db`, which the agent
 * resolves when it creates `app`. The test reads them back twice: from Docker's record of `app`'s
 * environment, against what `docker inspect db` says, and from inside `app`, which exits 42 only if
 * what it sees is right. Nothing is sent to the bridge address.
 */

const RUN = `tv${process.pid}-${Date.now().toString(36)}`;
let root: string;
let agent: RunningAgent;
let client: ControlClient;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'berth-templates-it-'));
  const config = resolveConfig({ dataDir: join(root, 'data') }, { env: {}, uid: 1000, home: root });
  agent = await startAgent({
    config,
    docker: new DockerodeClient({ socketPath: '/var/run/docker.sock', timeoutMs: 30_000, pullTimeoutMs: 120_000 }),
    saver: openSqliteSaver(join(root, 'data', 'state.db')),
    log: silentLogger(),
    defaultMetrics: false,
  });
  client = new ControlClient(config.socketPath, 10_000);
});
afterAll(async () => {
  await agent?.close();
  if (agent) removeContainersOf(agent.agentId);
  rmSync(root, { recursive: true, force: true });
});

async function until(arn: string, predicate: (t: TaskView | undefined) => boolean, ms = 30_000): Promise<TaskView> {
  const deadline = Date.now() + ms;
  let last: TaskView | undefined;
  while (Date.now() < deadline) {
    const res = await client.get<TaskView>(`/v1/tasks?taskarn=${encodeURIComponent(arn)}`);
    last = res.status === 200 ? res.body : undefined;
    if (predicate(last)) return last!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`task ${arn} did not reach the expected state in ${ms} ms; last: ${JSON.stringify(last, null, 1)}`);
}

const named = (t: TaskView | undefined, name: string): ContainerView | undefined => t?.containers.find((c) => c.name === name);

/** `db` sleeps with a named port (published on 127.0.0.1 at a port Docker picks) and a variable X. */
const DB = {
  name: 'db',
  image: TEST_IMAGE,
  command: ['sleep', '3600'],
  portMappings: [{ containerPort: 5432, name: 'pg' }],
  environment: [{ name: 'X', value: 'from-db' }],
  stopTimeout: 1,
};

function task(label: string, app: Record<string, unknown>): { arn: string; body: Record<string, unknown> } {
  const arn = `arn:berth:task/${RUN}-${label}`;
  // `app` is not essential: its exit leaves `db` running, to be inspected.
  return { arn, body: { arn, family: 'templates-it', containerDefinitions: [DB, { name: 'app', image: TEST_IMAGE, essential: false, stopTimeout: 1, ...app }] } };
}

const CHECK = [
  '[ "$DB_PORT" = 5432 ] || exit 1',
  '[ "$DB_PG" = 5432 ] || exit 2',
  '[ "$DB_X" = from-db ] || exit 3',
  'echo "$DB_HOST" | grep -Eq "^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$" || exit 4',
  '[ -n "$DB_HOSTNAME" ] && [ "$DB_HOSTNAME" != "%%hostname@db%%" ] || exit 5',
  '[ "$DB_URL" = "pg://$DB_HOST:$DB_PORT/app" ] || exit 6',
  'exit 42',
].join('; ');

describe('template variables on real Docker', () => {
  it("resolves db's address, ports, hostname and variable into app's environment, as Docker and app itself see it", async () => {
    const { arn, body } = task('ok', {
      command: ['sh', '-c', CHECK],
      environment: [
        { name: 'DB_HOST', value: '%%host@db%%' },
        { name: 'DB_PORT', value: '%%port@db%%' },
        { name: 'DB_PG', value: '%%port_pg@db%%' },
        { name: 'DB_HOSTNAME', value: '%%hostname@db%%' },
        { name: 'DB_X', value: '%%env_X@db%%' },
        { name: 'DB_URL', value: 'pg://%%host@db%%:%%port_0@db%%/app' },
      ],
    });
    expect((await client.post('/v1/tasks', body)).status).toBe(201);
    const t = await until(arn, (x) => named(x, 'app')?.knownStatus === 'STOPPED');
    expect(named(t, 'db')!.knownStatus).toBe('RUNNING');
    const dbId = named(t, 'db')!.dockerId!;
    const appId = named(t, 'app')!.dockerId!;

    const ip = docker('inspect', '-f', '{{.NetworkSettings.Networks.bridge.IPAddress}}', dbId);
    const hostname = docker('inspect', '-f', '{{.Config.Hostname}}', dbId);
    expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const env = Object.fromEntries(
      (JSON.parse(docker('inspect', '-f', '{{json .Config.Env}}', appId)) as string[]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
    );
    expect(env).toMatchObject({ DB_HOST: ip, DB_PORT: '5432', DB_PG: '5432', DB_HOSTNAME: hostname, DB_X: 'from-db', DB_URL: `pg://${ip}:5432/app` });
    expect(named(t, 'app')).toMatchObject({ exitCode: 42 });
    expect(docker('inspect', '-f', '{{.State.ExitCode}}', appId)).toBe('42');
  });

  it('stops app without creating it when a variable cannot be resolved, naming it', async () => {
    const { arn, body } = task('bad', { command: ['sleep', '3600'], environment: [{ name: 'DB_HOST', value: '%%host_nope@db%%' }] });
    expect((await client.post('/v1/tasks', body)).status).toBe(201);
    const t = await until(arn, (x) => named(x, 'app')?.knownStatus === 'STOPPED');
    expect(named(t, 'app')).toMatchObject({
      reason: 'TemplateVariableUnresolved',
      reasonMessage: 'environment DB_HOST: %%host_nope@db%%: db is not on network nope (it is on bridge)',
    });
    expect(named(t, 'app')!.dockerId).toBeUndefined();
    expect(docker('ps', '-aq', '--no-trunc', '--filter', `label=berth.task-arn=${arn}`)).toBe(named(t, 'db')!.dockerId);
  });

  it('refuses at POST a variable naming no container of the task, naming the field', async () => {
    const { body } = task('unknown', { environment: [{ name: 'DB_HOST', value: '%%host@nope%%' }] });
    const res = await client.post<{ issues?: { path: string; message: string }[] }>('/v1/tasks', body);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body)).toContain('containerDefinitions[1].environment[0].value');
    expect(JSON.stringify(res.body)).toContain('%%host@nope%% names no container of this task');
  });
});
