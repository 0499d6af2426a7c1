import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ContainerSpec } from '../../../../src/docker/docker-client.js';
import { FakeDocker } from '../../../../src/docker/fake-docker.js';
import type { MetadataFile } from '../../../../src/engine/metadata/metadata-file.js';
import { nodeMetadataIo } from '../../../../src/engine/metadata/metadata-io.js';
import { metadataLocation, taskMetadataDir } from '../../../../src/engine/metadata/metadata-location.js';
import { MemorySaver } from '../../../../src/state/memory-saver.js';
import { running, trackedEngines, waitForTask } from '../../../support/engine-harness.js';
import { containerDef, IMAGE, taskDef } from '../../../support/fixtures.js';

/* The metadata files of an engine on the fake Docker, in a temporary directory: what a container would read. */

let root: string;
beforeEach(async () => {
  root = join(await mkdtemp(join(tmpdir(), 'berth-metadata-')), 'metadata');
});
// Registered before the engines' own hook, so it runs after it (after hooks run last-registered
// first): the directory goes only once no engine is left writing into it.
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(join(root, '..'), { recursive: true, force: true });
});
const engineFor = trackedEngines(afterEach);
const ARN = 'arn:test:task/meta';
const ports = [{ containerPort: 80, hostPort: 18080, protocol: 'tcp' as const, hostIp: '127.0.0.1' }];


const read = async (container = 'app'): Promise<MetadataFile> =>
  JSON.parse(await readFile(metadataLocation(root, ARN, container).hostFile, 'utf8')) as MetadataFile;
const exists = (path: string): Promise<boolean> => stat(path).then(() => true, () => false);
/** Counts every write of a container's file from now on (the writer's I/O, spied on). */
function countWrites(container = 'app'): () => number {
  const file = metadataLocation(root, ARN, container).hostFile;
  const spy = vi.spyOn(nodeMetadataIo, 'writeAtomic');
  return () => spy.mock.calls.filter(([path]) => path === file).length;
}

function engineWithMetadata(docker = new FakeDocker({ images: [IMAGE] }), saver = new MemorySaver(), cleanupWaitMs = 60 * 60_000) {
  return engineFor({ docker, saver, cleanupWaitMs, containerMetadata: { root, cluster: 'prod' } });
}

async function started(made: ReturnType<typeof engineFor>): Promise<ReturnType<typeof engineFor>> {
  await made.engine.start();
  return made;
}

describe('container metadata files', () => {
  it('are written PENDING before create, and the container is created with the directory mounted and the variable set', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const atCreate: MetadataFile[] = [];
    const create = docker.createContainer.bind(docker);
    docker.createContainer = async (spec: ContainerSpec) => {
      atCreate.push(JSON.parse(await readFile(join(spec.mounts!.at(-1)!.source, 'ecs-container-metadata.json'), 'utf8')) as MetadataFile);
      return create(spec);
    };
    const { engine } = await started(engineWithMetadata(docker));
    await engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app', { portMappings: ports })]) });
    const task = await waitForTask(engine, ARN, running);
    const at = metadataLocation(root, ARN, 'app');
    expect(atCreate).toEqual([expect.objectContaining({ TaskARN: ARN, ContainerName: 'app', MetadataFileStatus: 'PENDING' })]);
    expect(atCreate[0]).not.toHaveProperty('ContainerID');
    const spec = docker.specOf(task.containers[0]!.dockerId!);
    expect(spec.env.ECS_CONTAINER_METADATA_FILE).toBe(at.containerFile);
    expect(spec.mounts).toContainEqual({ type: 'bind', source: at.hostDir, target: at.containerDir, readOnly: true });
  });

  it('become READY with the Docker ID, the image, the ports and the networks once the container runs', async () => {
    const { engine } = await started(engineWithMetadata());
    await engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app', { portMappings: ports })]) });
    const task = await waitForTask(engine, ARN, running);
    await engine.idle();
    const c = task.containers[0]!;
    expect(await read()).toEqual({
      Cluster: 'prod',
      TaskARN: ARN,
      TaskDefinitionFamily: 'web',
      TaskDefinitionRevision: '1',
      ContainerName: 'app',
      ContainerID: c.dockerId,
      DockerContainerName: `/${c.dockerName}`,
      ImageName: IMAGE,
      ImageID: c.imageId,
      ...(c.imageDigest ? { ImageDigest: c.imageDigest } : {}),
      PortMappings: [{ ContainerPort: 80, HostPort: 18080, BindIp: '127.0.0.1', Protocol: 'tcp' }],
      Networks: [{ NetworkMode: 'bridge', IPv4Addresses: [c.networks!.bridge!.ipAddress] }],
      MetadataFileStatus: 'READY',
    });
    expect(c.imageId).toBeDefined();
  });

  it('are not rewritten by a change the file does not show (a health verdict), nor by a restarted agent', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const saver = new MemorySaver();
    const healthCheck = { command: ['CMD', 'true'], interval: 30, timeout: 5, retries: 3, startPeriod: 0 };
    const first = await started(engineWithMetadata(docker, saver));
    await first.engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app', { healthCheck })]) });
    const task = await waitForTask(first.engine, ARN, running);
    await first.engine.idle();
    const writes = countWrites();
    docker.setHealth(task.containers[0]!.dockerId!, 'healthy');
    await waitForTask(first.engine, ARN, (t) => t.containers[0]!.health === 'HEALTHY');
    await first.engine.idle();
    expect(writes()).toBe(0);
    await first.engine.close();

    const stray = join(root, 'gone-task-00000000');
    await mkdir(join(stray, 'app'), { recursive: true });
    const second = engineWithMetadata(docker, saver);
    await second.engine.start();
    await second.engine.idle();
    expect(writes()).toBe(0);
    expect((await read()).MetadataFileStatus).toBe('READY');
    expect(await exists(stray)).toBe(false);
  });

  it('are rewritten when what they show changes: a restarted incarnation', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const { engine } = await started(engineWithMetadata(docker));
    await engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app', { restartPolicy: { ignoredExitCodes: [], restartAttemptPeriod: 0 } })]) });
    const task = await waitForTask(engine, ARN, running);
    await engine.idle();
    const writes = countWrites();
    docker.crash(task.containers[0]!.dockerId!, 3);
    const again = await waitForTask(engine, ARN, (t) => t.containers[0]!.restartCount === 1 && t.containers[0]!.knownStatus === 'RUNNING');
    await engine.idle();
    // PENDING while the new incarnation is not running, READY with its new address once it is.
    expect(writes()).toBe(2);
    expect(await read()).toMatchObject({ MetadataFileStatus: 'READY', Networks: [{ NetworkMode: 'bridge', IPv4Addresses: [again.containers[0]!.networks!.bridge!.ipAddress] }] });
  });

  it('are removed with the task', async () => {
    const { engine } = await started(engineWithMetadata(undefined, undefined, 0));
    await engine.addTask({ kind: 'definition', task: taskDef(ARN, [containerDef('app'), containerDef('side')]) });
    await waitForTask(engine, ARN, running);
    await engine.idle();
    expect(await exists(metadataLocation(root, ARN, 'side').hostFile)).toBe(true);
    await engine.addTask({ kind: 'desired-status', arn: ARN, desiredStatus: 'STOPPED' });
    await vi.waitFor(() => expect(engine.getTask(ARN)).toBeUndefined());
    await engine.idle();
    expect(await exists(taskMetadataDir(root, ARN))).toBe(false);
  });

  it('are neither written nor mounted without --container-metadata', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const { engine } = await started(engineFor({ docker }));
    await engine.addTask({ kind: 'definition', task: taskDef(ARN) });
    const task = await waitForTask(engine, ARN, running);
    const spec = docker.specOf(task.containers[0]!.dockerId!);
    expect(spec.env).not.toHaveProperty('ECS_CONTAINER_METADATA_FILE');
    expect(spec).not.toHaveProperty('mounts');
    expect(await exists(root)).toBe(false);
  });
});
