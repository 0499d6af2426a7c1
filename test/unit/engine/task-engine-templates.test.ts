import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerDefinition } from '../../../src/api/task.js';
import type { FakeDocker } from '../../../src/docker/fake-docker.js';
import { containerDef, taskDef } from '../../support/fixtures.js';
import { stopped, trackedEngines, waitForTask } from '../../support/engine-harness.js';

/* Template variables on the engine over the fake Docker: resolved into the created container's environment, or the container is never created. */

const engineFor = trackedEngines(afterEach);
const ARN = 'arn:test:task/templates';
const ops = (docker: FakeDocker, op: string): string[] => docker.calls.filter((c) => c.op === op).map((c) => c.arg);

const db = containerDef('db', {
  portMappings: [{ containerPort: 5432, protocol: 'tcp', hostIp: '127.0.0.1', name: 'pg' }],
  environment: { POSTGRES_USER: 'admin' },
});

async function run(app: ContainerDefinition) {
  const made = engineFor();
  await made.engine.start();
  const { task } = await made.engine.addTask({ kind: 'definition', task: taskDef(ARN, [db, app]) });
  return { ...made, task };
}

describe('template variables on the engine', () => {
  it("creates the dependent only once its sibling runs, with the sibling's facts in its environment", async () => {
    const app = containerDef('app', {
      environment: { DB: '%%host@db%%:%%port@db%%', PG: '%%port_pg@db%%', PID: '%%pid@db%%', DB_HOSTNAME: '%%hostname@db%%', USER: '%%env_POSTGRES_USER@db%%', KEEP: '100%%' },
    });
    const { engine, docker } = await run(app);
    const t = await waitForTask(engine, ARN, (x) => x.knownStatus === 'RUNNING');
    const [dbState, appState] = t.containers;
    expect(dbState!.startedAt! <= appState!.createdAt!).toBe(true);
    const ip = dbState!.networks!['bridge']!.ipAddress!;
    expect(ip).toMatch(/^172\.17\./);
    expect(docker.specOf(appState!.dockerId!).env).toEqual({
      DB: `${ip}:5432`,
      PG: '5432',
      PID: String(dbState!.pid),
      DB_HOSTNAME: dbState!.hostname,
      USER: 'admin',
      KEEP: '100%%',
    });
    // The definition keeps what was written: the values are the create's, not the task's.
    expect(appState!.definition.environment['DB']).toBe('%%host@db%%:%%port@db%%');
  });

  it('stops a container whose variable cannot be resolved, never creating it, and the task follows the essential rule', async () => {
    const { engine, docker, task } = await run(containerDef('app', { environment: { DB_HOST: '%%host_backend@db%%' } }));
    const t = await waitForTask(engine, ARN, stopped);
    expect(t.containers[1]).toMatchObject({
      knownStatus: 'STOPPED',
      reason: { code: 'TemplateVariableUnresolved', message: 'environment DB_HOST: %%host_backend@db%%: db is not on network backend (it is on bridge)' },
    });
    expect(t.containers[1]!.dockerId).toBeUndefined();
    expect(ops(docker, 'create')).toEqual([task.containers[0]!.dockerName]);
    expect(t.containers[0]!.reason?.code).toBe('EssentialContainerExited');
  });
});
