import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { metadataLocation, taskMetadataDir } from '../../../src/engine/metadata/metadata-location.js';
import { AgentProcess, removeContainersOf } from '../../support/agent-process.js';
import { TEST_IMAGE } from '../global-setup.js';

/*
 * The ECS container metadata file read from inside a real container, with the built agent run
 * with --container-metadata: the container waits (at most 20 s) for the file to say READY and
 * exits 42 only if its own Docker ID (its hostname is the ID's first 12 characters, Docker's
 * default) and its host port are in it, and it cannot write next to it (read-only).
 */

const RUN = `md${process.pid}-${Date.now().toString(36)}`;
const dirs: string[] = [];
let agent: AgentProcess | undefined;

afterEach(async () => {
  const id = agent ? await agent.client.get<{ agentId: string }>('/v1/metadata').then((r) => r.body.agentId, () => undefined) : undefined;
  await agent?.stop('SIGTERM');
  agent = undefined;
  if (id) removeContainersOf(id);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const reader = (port: number): string =>
  [
    'f="$ECS_CONTAINER_METADATA_FILE"',
    'i=0',
    `while [ $i -lt 20 ] && ! grep -q '"MetadataFileStatus": "READY"' "$f" 2>/dev/null; do sleep 1; i=$((i+1)); done`,
    `grep -q '"MetadataFileStatus": "READY"' "$f" || exit 3`,
    'grep -q "\\"ContainerID\\": \\"$(hostname)" "$f" || exit 4',
    `grep -q '"HostPort": ${port},' "$f" || exit 5`,
    'touch "$(dirname "$f")/written" 2>/dev/null && exit 6',
    'exit 42',
  ].join('\n');

it('a container finds its own Docker ID and host port in its READY metadata file; the file goes with the task', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-it-metadata-'));
  dirs.push(dir);
  const dataDir = join(dir, 'data');
  agent = new AgentProcess(dataDir, ['--container-metadata', '--cluster', 'it-cluster', '--cleanup-wait', '2s']);
  await agent.start();
  expect((await agent.client.get<{ cluster: string }>('/v1/metadata')).body.cluster).toBe('it-cluster');
  const arn = `arn:berth:task/${RUN}`;
  const port = await freePort();
  const posted = await agent.client.post('/v1/tasks', {
    arn,
    family: 'metadata',
    revision: 4,
    containerDefinitions: [
      { name: 'app', image: TEST_IMAGE, entryPoint: ['sh', '-c'], command: [reader(port)], portMappings: [{ containerPort: 8080, hostPort: port }], stopTimeout: 1 },
    ],
  });
  expect(posted.status).toBe(201);

  const done = await agent.waitForTask(arn, (t) => t?.knownStatus === 'STOPPED', 60_000);
  const app = done!.containers[0]!;
  expect(app.exitCode, `the container's check failed (3: never READY, 4: no own ID, 5: no host port, 6: writable)\n${agent.log().slice(-3000)}`).toBe(42);

  const file = metadataLocation(join(dataDir, 'metadata'), arn, 'app').hostFile;
  expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
    Cluster: 'it-cluster',
    TaskARN: arn,
    TaskDefinitionFamily: 'metadata',
    TaskDefinitionRevision: '4',
    ContainerName: 'app',
    ContainerID: app.dockerId,
    DockerContainerName: `/${app.dockerName}`,
    ImageName: TEST_IMAGE,
    ImageID: app.imageId,
    PortMappings: [{ ContainerPort: 8080, HostPort: port, BindIp: '127.0.0.1', Protocol: 'tcp' }],
    Networks: [{ NetworkMode: 'bridge', IPv4Addresses: [expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/)] }],
    MetadataFileStatus: 'READY',
  });

  await agent.waitForTask(arn, (t) => t === undefined, 30_000);
  const taskDir = taskMetadataDir(join(dataDir, 'metadata'), arn);
  const deadline = Date.now() + 10_000;
  while (existsSync(taskDir) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(existsSync(taskDir)).toBe(false);
});
