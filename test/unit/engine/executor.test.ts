import { describe, expect, it } from 'vitest';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { containerSpec } from '../../../src/engine/container-spec.js';
import { Executor, type ExecutorPulls } from '../../../src/engine/executor.js';
import { ImageRecords } from '../../../src/engine/images/image-records.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { systemClock } from '../../../src/util/clock.js';
import { TEST_PULLS } from '../../support/engine-harness.js';
import { newTaskState } from '../../../src/engine/task-state.js';
import { silentLogger } from '../../../src/log/logger.js';
import { AGENT_ID, IMAGE, taskDef } from '../../support/fixtures.js';

const AGENT = 'agent-x';

const pulls = (): ExecutorPulls => ({
  maxConcurrent: 2,
  ...TEST_PULLS,
  policy: TEST_PULLS,
  records: new ImageRecords(new MemorySaver(), silentLogger()),
  clock: systemClock,
  random: () => 0.5,
});

describe('Executor cleanup', () => {
  it('removes by name a container whose ID was never saved, but only when its labels prove it ours', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    await docker.pullImage(IMAGE);
    const ours = newTaskState(taskDef('arn:ours'), 1, AGENT_ID);
    const theirs = newTaskState(taskDef('arn:theirs'), 1, AGENT_ID);
    await docker.createContainer(containerSpec(ours, ours.containers[0]!, AGENT));
    await docker.createContainer({ ...containerSpec(theirs, theirs.containers[0]!, AGENT), labels: {} });
    const executor = new Executor(docker, AGENT, silentLogger(), pulls());

    const target = (t: typeof ours) => [{ container: 'app', ref: t.containers[0]!.dockerName }];
    expect(await executor.run(ours, { kind: 'cleanup', targets: target(ours), volumes: [] })).toEqual({ kind: 'cleaned' });
    expect(await executor.run(theirs, { kind: 'cleanup', targets: target(theirs), volumes: [] })).toEqual({ kind: 'cleaned' });
    const left = await docker.listContainers({});
    expect(left.map((c) => c.name)).toEqual([theirs.containers[0]!.dockerName]);
  });

  it('treats a container already gone as cleaned, and reports other failures', async () => {
    const docker = new FakeDocker({ images: [IMAGE] });
    const task = newTaskState(taskDef('arn:x'), 1, AGENT_ID);
    const executor = new Executor(docker, AGENT, silentLogger(), pulls());
    const gone = [{ container: 'app', ref: 'f'.repeat(64) }];
    expect(await executor.run({ ...task, containers: [{ ...task.containers[0]!, dockerId: 'f'.repeat(64) }] }, { kind: 'cleanup', targets: gone, volumes: [] })).toEqual({ kind: 'cleaned' });
    docker.failNext('remove', new Error('disk on fire'));
    await docker.pullImage(IMAGE);
    const id = await docker.createContainer(containerSpec(task, task.containers[0]!, AGENT));
    const withId = { ...task, containers: [{ ...task.containers[0]!, dockerId: id }] };
    expect(await executor.run(withId, { kind: 'cleanup', targets: [{ container: 'app', ref: id }], volumes: [] })).toMatchObject({ kind: 'failed', action: 'cleanup' });
  });
});
