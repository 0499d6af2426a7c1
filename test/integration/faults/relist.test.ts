import { expect, it } from 'vitest';
import { docker } from '../../support/agent-process.js';
import { relistPasses } from '../../support/agent-metrics.js';
import { useFaultAgents } from '../../support/fault-agents.js';
import { until } from '../../support/until.js';
import { TEST_IMAGE } from '../global-setup.js';

const faults = useFaultAgents('relist');
const RUN = `relist-${process.pid}`;

const exists = (name: string): boolean => docker('ps', '-aq', '--filter', `name=^/${name}$`) !== '';

it("a container carrying this agent's ID that no task accounts for is reported, then removed after the grace; other agents' and unlabelled ones are left alone", async () => {
  const agent = await faults.started('data', ['--relist-interval', '1s', '--orphan-grace', '3s']);
  const agentId = agent.agentId;
  faults.alsoRemove(`label=berth.agent-id=${RUN}-other-agent`, `name=${RUN}-unlabelled`);
  docker('pull', TEST_IMAGE);
  const run = (name: string, labels: string[]): string =>
    // Exits on SIGTERM, so the agent's stop of the orphan does not wait out Docker's kill timeout.
    docker('run', '-d', '--name', name, ...labels.flatMap((l) => ['--label', l]), TEST_IMAGE, 'sh', '-c', "trap 'exit 0' TERM; while true; do sleep 0.2; done");
  const createdAt = Date.now();
  run(`${RUN}-ours`, [`berth.agent-id=${agentId}`, 'berth.task-arn=arn:relist/never-known', 'berth.container-name=app']);
  run(`${RUN}-theirs`, [`berth.agent-id=${RUN}-other-agent`]);
  run(`${RUN}-unlabelled`, []);

  await agent.waitForLog(/Found a container of this agent that no task accounts for.*-ours/);
  await until('the unknown container is removed', () => !exists(`${RUN}-ours`), { context: () => agent.log().slice(-4000) });
  expect(Date.now() - createdAt).toBeGreaterThanOrEqual(3_000);
  await agent.waitForLog(/Removed a container no task accounts for.*-ours/);
  // Several more passes go by: the others stay.
  await relistPasses(agent.client, 3, () => agent.log().slice(-4000));
  expect([exists(`${RUN}-theirs`), exists(`${RUN}-unlabelled`)]).toEqual([true, true]);
});

it('a container removed while the agent runs is reported ContainerMissing and stops its task; one stopped with docker stop is STOPPED with its exit code', async () => {
  const agent = await faults.started('live', ['--relist-interval', '1s']);
  const body = (arn: string) => ({ arn, family: 'relist', version: '1', containers: [{ name: 'app', image: TEST_IMAGE, command: ['sleep', '600'], stopTimeout: 1 }] });
  const removed = `arn:relist/${RUN}/removed`;
  const stopped = `arn:relist/${RUN}/stopped`;
  for (const arn of [removed, stopped]) await agent.client.post('/v1/tasks', body(arn));
  const r = (await agent.waitForTask(removed, (t) => t?.knownStatus === 'RUNNING'))!;
  const s = (await agent.waitForTask(stopped, (t) => t?.knownStatus === 'RUNNING'))!;
  docker('rm', '-f', r.containers[0]!.dockerId!);
  docker('stop', '-t', '1', s.containers[0]!.dockerId!);
  const exitCode = Number(docker('inspect', '-f', '{{.State.ExitCode}}', s.containers[0]!.dockerId!));
  const gone = (await agent.waitForTask(removed, (t) => t?.knownStatus === 'STOPPED'))!;
  expect(gone.containers[0]).toMatchObject({ knownStatus: 'STOPPED', reason: 'ContainerMissing' });
  const exited = (await agent.waitForTask(stopped, (t) => t?.knownStatus === 'STOPPED'))!;
  expect(exited.containers[0]).toMatchObject({ knownStatus: 'STOPPED', exitCode, reason: 'ContainerExited' });
});
