import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../../src/agent.js';
import type { TaskView } from '../../../src/api/view.js';
import { resolveConfig } from '../../../src/config/config.js';
import { ControlClient } from '../../../src/control/client.js';
import { DockerodeClient } from '../../../src/docker/dockerode-client.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { SourceStatus } from '../../../src/sources/source-status.js';
import { openSqliteSaver } from '../../../src/state/sqlite-saver.js';
import { docker, removeContainersOf } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * Task sources on real Docker: a manifest directory and pushed sources merged and conflicting, and
 * the directory rewritten under load. Docker says how many containers were made and what each was
 * made from (its environment's VERSION).
 */

const RUN = `src${process.pid}-${Date.now().toString(36)}`;
const FILES = 20;
const REWRITES = 100;
let root: string;
let manifests: string;
let agent: RunningAgent;
let client: ControlClient;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'berth-sources-it-'));
  manifests = join(root, 'manifests');
  mkdirSync(manifests);
  const resolved = resolveConfig({ dataDir: join(root, 'data'), manifests }, { env: {}, uid: 1000, home: root });
  // A longer quiet than the default: every rewrite below lands within it, whatever the machine's load.
  const config = { ...resolved, manifests: { ...resolved.manifests!, debounceMs: 1_000 } };
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

const arnOf = (label: string): string => `arn:berth:task/${RUN}-${label}`;

function body(label: string, version: number): Record<string, unknown> {
  return {
    arn: arnOf(label),
    family: 'sources-it',
    version: 1,
    containers: [{ name: 'app', image: TEST_IMAGE, command: ['sleep', '3600'], environment: { VERSION: String(version) }, stopTimeout: 1 }],
  };
}

async function until<T>(what: string, get: () => Promise<T | undefined>, ok: (v: T | undefined) => boolean, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await get();
    if (ok(last) && last !== undefined) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}`);
}

const task = async (label: string): Promise<TaskView | undefined> => {
  const res = await client.get<TaskView>(`/v1/tasks?taskarn=${encodeURIComponent(arnOf(label))}`);
  return res.status === 200 ? res.body : undefined;
};
const sources = async (): Promise<SourceStatus[]> => (await client.get<{ sources: SourceStatus[] }>('/v1/sources')).body.sources;
const envVersion = (dockerId: string): string => docker('inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', dockerId).split('\n').find((l) => l.startsWith('VERSION='))!.slice(8);
const labelled = (label: string): string[] =>
  docker('ps', '-aq', '--no-trunc', '--filter', `label=berth.agent-id=${agent.agentId}`, '--filter', `label=berth.task-arn=${arnOf(label)}`).split('\n').filter(Boolean);

describe('task sources on real Docker', () => {
  it('merges a manifest and a pushed source: the first claimant keeps the arn, both report the conflict, and the contender takes over without a restart', async () => {
    // fleet claims first; the manifest claims the same arn with the identical definition: still a conflict.
    expect((await client.send('PUT', '/v1/sources/fleet/tasks', { tasks: [body('shared', 1)] })).status).toBe(200);
    const running = await until('shared RUNNING', () => task('shared'), (t) => t?.knownStatus === 'RUNNING');
    writeFileSync(join(manifests, 'shared.json'), JSON.stringify(body('shared', 1)));
    writeFileSync(join(manifests, 'other.json'), JSON.stringify(body('other', 7)));
    const view = await until('the conflict on the task', () => task('shared'), (t) => t?.conflicts !== undefined);
    expect(view).toMatchObject({ source: 'fleet', conflicts: ['manifests'] });
    const all = await until('both sources', sources, (s) => !!s?.some((x) => x.name === 'manifests' && x.taskCount === 2));
    const conflict = { arn: arnOf('shared'), owner: 'fleet', claimants: ['fleet', 'manifests'] };
    expect(all.find((s) => s.name === 'fleet')?.conflicts).toEqual([conflict]);
    expect(all.find((s) => s.name === 'manifests')?.conflicts).toEqual([conflict]);
    expect((await until('other RUNNING', () => task('other'), (t) => t?.knownStatus === 'RUNNING')).source).toBe('manifests');

    // fleet drops it: the manifest owns it now, and the container it runs is the same one.
    await client.send('PUT', '/v1/sources/fleet/tasks', { tasks: [] });
    const taken = await until('manifests owning shared', () => task('shared'), (t) => t?.source === 'manifests' && t.conflicts === undefined);
    expect(taken.knownStatus).toBe('RUNNING');
    expect(taken.containers[0]!.dockerId).toBe(running.containers[0]!.dockerId);
    expect(labelled('shared')).toHaveLength(1);
  });

  it(`applies the last of ${REWRITES} rewrites of ${FILES} manifest files, with one container per task`, async () => {
    const labels = Array.from({ length: FILES }, (_, i) => `load-${i}`);
    const last = new Map<string, number>();
    for (let i = 1; i <= REWRITES; i++) {
      const label = labels[i % FILES]!;
      writeFileSync(join(manifests, `${label}.json`), JSON.stringify(body(label, i)));
      last.set(label, i);
      // Paces the rewrites so the watcher sees them one by one; nothing is waited for here.
      await new Promise((r) => setTimeout(r, 30));
    }
    for (const label of labels) {
      const t = await until(`${label} RUNNING`, () => task(label), (v) => v?.knownStatus === 'RUNNING', 90_000);
      expect({ label, version: envVersion(t.containers[0]!.dockerId!) }).toEqual({ label, version: String(last.get(label)) });
      expect(labelled(label)).toHaveLength(1);
    }
    const status = (await sources()).find((s) => s.name === 'manifests')!;
    expect(status).toMatchObject({ taskCount: FILES + 2, errors: [], conflicts: [] });
    expect(status.tasks.filter((t) => t.state !== 'applied')).toEqual([]);
  });
});
