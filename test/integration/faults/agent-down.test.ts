import { expect, it } from 'vitest';
import { docker } from '../../support/agent-process.js';
import { useFaultAgents } from '../../support/fault-agents.js';
import { TEST_IMAGE } from '../global-setup.js';

const faults = useFaultAgents('down');

const task = (arn: string, essential: boolean) => ({
  arn,
  family: 'down',
  version: '1',
  containers: [
    { name: 'main', image: TEST_IMAGE, command: ['sleep', '600'], essential, stopTimeout: 1 },
    { name: 'helper', image: TEST_IMAGE, command: ['sleep', '600'], essential: false, stopTimeout: 1 },
  ],
});

it('containers removed or stopped while the agent was down are reported once it is back', async () => {
  const agent = await faults.started('data');
  const run = `${process.pid}-${Date.now()}`;
  await agent.client.post('/v1/tasks', task(`arn:down/${run}/removed`, true));
  await agent.client.post('/v1/tasks', task(`arn:down/${run}/stopped`, true));
  const removed = (await agent.waitForTask(`arn:down/${run}/removed`, (t) => t?.knownStatus === 'RUNNING'))!;
  const stopped = (await agent.waitForTask(`arn:down/${run}/stopped`, (t) => t?.knownStatus === 'RUNNING'))!;
  await agent.stop('SIGTERM');

  docker('rm', '-f', removed.containers[0]!.dockerId!);
  docker('stop', '-t', '1', stopped.containers[0]!.dockerId!);
  const exitCode = Number(docker('inspect', '-f', '{{.State.ExitCode}}', stopped.containers[0]!.dockerId!));

  await agent.start();
  const r = (await agent.waitForTask(`arn:down/${run}/removed`, (t) => t?.knownStatus === 'STOPPED'))!;
  expect(r.containers[0]).toMatchObject({ knownStatus: 'STOPPED', reason: 'ContainerMissing' });
  expect(r.containers[1]).toMatchObject({ knownStatus: 'STOPPED', reason: 'EssentialContainerExited' });
  const s = (await agent.waitForTask(`arn:down/${run}/stopped`, (t) => t?.knownStatus === 'STOPPED'))!;
  // As PID 1, sleep ignores SIGTERM, so Docker kills it: whatever Docker recorded is what is reported.
  expect(exitCode).toBe(137);
  expect(s.containers[0]).toMatchObject({ knownStatus: 'STOPPED', exitCode, reason: 'ContainerExited' });
  expect(s.containers[1]!.reason).toBe('EssentialContainerExited');
  const events = (await agent.client.get<{ events: Array<{ taskArn: string; containerName?: string; status: string; reason?: string }> }>('/v1/events?after=0&limit=5000')).body.events;
  expect(events.filter((e) => e.taskArn === r.arn && e.containerName === 'main' && e.status === 'STOPPED')).toEqual([
    expect.objectContaining({ reason: 'ContainerMissing' }),
  ]);
});
