import { describe, expect, it } from 'vitest';
import type { ContainerDefinition, ContainerState } from '../../../../src/api/task.js';
import { newTaskState } from '../../../../src/engine/task-state.js';
import { resolveEnvironment } from '../../../../src/engine/templates/resolve-templates.js';
import { AGENT_ID, containerDef, taskDef } from '../../../support/fixtures.js';

/* Each row: what the sibling `db` is known to be, one environment value of `app`, and what it resolves to. */

const DB_RUNNING: Partial<ContainerState> = { knownStatus: 'RUNNING', networks: { bridge: { ipAddress: '172.17.0.5' } }, pid: 4242, hostname: 'dbhost' };
const DB_DEF: Partial<ContainerDefinition> = {
  portMappings: [
    { containerPort: 8080, protocol: 'tcp', hostIp: '127.0.0.1', name: 'admin' },
    { containerPort: 5432, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: 15432, name: 'pg' },
    { containerPort: 5432, protocol: 'udp', hostIp: '127.0.0.1' },
  ],
  environment: { USER: 'postgres', URL: 'pg://%%host@cache%%' },
};

function resolve(value: string, db: Partial<ContainerState> = DB_RUNNING, dbDef: Partial<ContainerDefinition> = DB_DEF) {
  const def = taskDef('arn:test:task/tpl', [containerDef('cache'), containerDef('db', dbDef), containerDef('app', { environment: { V: value } })]);
  const base = newTaskState(def, 1_000, AGENT_ID);
  const facts: Record<string, Partial<ContainerState>> = { cache: { knownStatus: 'RUNNING', networks: { bridge: { ipAddress: '172.17.0.9' } } }, db };
  const task = { ...base, containers: base.containers.map((c) => ({ ...c, ...facts[c.definition.name] })) };
  const r = resolveEnvironment(task, task.containers[2]!);
  return r.ok ? r.environment['V'] : `error: ${r.message}`;
}

describe('resolveEnvironment', () => {
  const TABLE: Array<[string, string, Partial<ContainerState>?, Partial<ContainerDefinition>?]> = [
    ['plain 100%% %%hostx@db%%', 'plain 100%% %%hostx@db%%'],
    ['%%host@db%%', '172.17.0.5'],
    ['%%host_bridge@db%%', '172.17.0.5'],
    ['http://%%host@db%%:%%port_pg@db%%/', 'http://172.17.0.5:5432/'],
    ['%%port@db%%', '8080'],
    ['%%port_0@db%%', '5432'],
    ['%%port_1@db%%', '8080'],
    ['%%port_admin@db%%', '8080'],
    ['%%pid@db%%', '4242'],
    ['%%hostname@db%%', 'dbhost'],
    ['%%env_USER@db%%', 'postgres'],
    ['%%env_URL@db%%', 'pg://172.17.0.9'],
    ['%%host@db%%', 'error: environment V: %%host@db%%: db has addresses on several networks (bridge, backend): name one, %%host_<network>@db%%', { ...DB_RUNNING, networks: { bridge: { ipAddress: '172.17.0.5' }, backend: { ipAddress: '10.0.0.5' } } }],
    ['%%host@db%%', '10.0.0.5', { ...DB_RUNNING, networks: { host: {}, backend: { ipAddress: '10.0.0.5' } } }],
    ['%%host_backend@db%%', 'error: environment V: %%host_backend@db%%: db is not on network backend (it is on bridge)'],
    ['%%host@db%%', 'error: environment V: %%host@db%%: db has no network address (it is on host)', { ...DB_RUNNING, networks: { host: {} } }],
    ['%%host_host@db%%', 'error: environment V: %%host_host@db%%: db has no address on network host', { ...DB_RUNNING, networks: { host: {} } }],
    ['%%host@db%%', 'error: environment V: %%host@db%%: db has no network address (it is on no network)', { ...DB_RUNNING, networks: {} }],
    ['%%port_2@db%%', 'error: environment V: %%port_2@db%%: index 2 is out of range: db has 2 ports (5432, 8080)'],
    ['%%port_web@db%%', 'error: environment V: %%port_web@db%%: db has no port mapping named web (its names: admin, pg)'],
    ['%%port@db%%', 'error: environment V: %%port@db%%: db has no ports', DB_RUNNING, { portMappings: [] }],
    ['%%pid@db%%', 'error: environment V: %%pid@db%%: db has no PID: it is not running', { ...DB_RUNNING, knownStatus: 'STOPPED', pid: undefined } as Partial<ContainerState>],
    ['%%hostname@db%%', 'error: environment V: %%hostname@db%%: db has no hostname yet: it has not been seen running', { knownStatus: 'RUNNING' }],
    ['%%env_NOPE@db%%', 'error: environment V: %%env_NOPE@db%%: db has no environment variable NOPE'],
    ['%%host@ghost%%', 'error: environment V: %%host@ghost%%: ghost names no container of this task'],
    ['%%host@app%%', 'error: environment V: %%host@app%%: app is this container: template variables come from another container of the task'],
    ['%%host%%', 'error: environment V: %%host%% names no container: write %%host@<container>%% (the container of this task it comes from)'],
  ];
  it.each(TABLE)('%s → %s', (value, expected, db, dbDef) => {
    expect(resolve(value, db, dbDef)).toBe(expected);
  });

  it('gives the environment as defined when it holds no template variables', () => {
    const task = newTaskState(taskDef('arn:test:task/plain', [containerDef('app', { environment: { A: '1' } })]), 1_000, AGENT_ID);
    const r = resolveEnvironment(task, task.containers[0]!);
    expect(r).toEqual({ ok: true, environment: { A: '1' } });
  });

  it("names the sibling's own unresolved variable when an env chain breaks", () => {
    expect(resolve('%%env_URL@db%%', DB_RUNNING, { environment: { URL: '%%pid@cache%%' } })).toBe(
      "error: environment V: %%env_URL@db%%: in db's environment URL: %%pid@cache%%: cache has no PID: it is not running",
    );
  });
});
