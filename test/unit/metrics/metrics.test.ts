import { describe, expect, it } from 'vitest';
import type { NewStateChange } from '../../../src/api/events.js';
import type { ContainerSpec, DockerEvent } from '../../../src/docker/docker-client.js';
import { FakeDocker } from '../../../src/docker/fake-docker.js';
import { ContainerNotFoundError, DockerTimeoutError, DockerUnavailableError, PersistenceError } from '../../../src/errors.js';
import { errorCode, instrumentDocker } from '../../../src/metrics/instrumented-docker.js';
import { instrumentSaver } from '../../../src/metrics/instrumented-saver.js';
import { AgentMetrics } from '../../../src/metrics/metrics.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** Parses Prometheus text exposition into samples plus the HELP and TYPE line of each metric. */
function parse(body: string): { samples: Sample[]; help: Map<string, string>; type: Map<string, string> } {
  const samples: Sample[] = [];
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of body.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta) {
      (meta[1] === 'HELP' ? help : type).set(meta[2]!, meta[3]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, help, type };
}

/** The value of the one sample with exactly these labels; undefined when there is none. */
async function sample(metrics: AgentMetrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const { samples } = parse((await metrics.render()).body);
  const found = samples.filter(
    (s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found.length).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

const newMetrics = (): AgentMetrics => new AgentMetrics({ defaultMetrics: false });

const IMAGE = 'registry.test/x:1';
const spec: ContainerSpec = { name: 'app', image: IMAGE, env: {}, labels: { team: 't' }, portMappings: [], stopTimeout: 1 };

/** Every call takes 250 ms on this clock. */
function steppingClock(stepMs = 250): { now(): number } {
  let t = 0;
  return { now: () => (t += stepMs) };
}

describe('AgentMetrics', () => {
  it('documents every contract metric with HELP and TYPE lines, in the Prometheus text format', async () => {
    const rendered = await newMetrics().render();
    expect(rendered.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const { help, type } = parse(rendered.body);
    const expected: Record<string, string> = {
      berth_tasks: 'gauge',
      berth_containers: 'gauge',
      berth_transitions_total: 'counter',
      berth_transition_duration_seconds: 'histogram',
      berth_docker_api_errors_total: 'counter',
      berth_docker_api_duration_seconds: 'histogram',
      berth_event_stream_reconnects_total: 'counter',
      berth_events_written_total: 'counter',
      berth_db_write_duration_seconds: 'histogram',
      berth_db_write_errors_total: 'counter',
    };
    for (const [name, kind] of Object.entries(expected)) {
      expect(type.get(name), name).toBe(kind);
      expect(help.get(name)?.length, name).toBeGreaterThan(10);
    }
  });

  it('counts transitions by kind and result, and times them by kind', async () => {
    const m = newMetrics();
    m.observeTransition('pull', 'success', 1.5);
    m.observeTransition('pull', 'success', 0.2);
    m.observeTransition('pull', 'failure', 30);
    m.observeTransition('start', 'success', 0.003);

    expect(await sample(m, 'berth_transitions_total', { kind: 'pull', result: 'success' })).toBe(2);
    expect(await sample(m, 'berth_transitions_total', { kind: 'pull', result: 'failure' })).toBe(1);
    expect(await sample(m, 'berth_transitions_total', { kind: 'start', result: 'success' })).toBe(1);
    // Kinds that never ran are present at 0, so rate() over them is 0 rather than absent.
    expect(await sample(m, 'berth_transitions_total', { kind: 'cleanup', result: 'failure' })).toBe(0);

    expect(await sample(m, 'berth_transition_duration_seconds_count', { kind: 'pull' })).toBe(3);
    expect(await sample(m, 'berth_transition_duration_seconds_sum', { kind: 'pull' })).toBeCloseTo(31.7);
    expect(await sample(m, 'berth_transition_duration_seconds_bucket', { kind: 'pull', le: '0.25' })).toBe(1);
    expect(await sample(m, 'berth_transition_duration_seconds_bucket', { kind: 'pull', le: '30' })).toBe(3);
    expect(await sample(m, 'berth_transition_duration_seconds_bucket', { kind: 'start', le: '0.005' })).toBe(1);
    expect(await sample(m, 'berth_transition_duration_seconds_bucket', { kind: 'start', le: '120' })).toBe(1);
  });

  it('counts Docker errors and call durations, reconnects, events written and DB writes', async () => {
    const m = newMetrics();
    m.dockerError('pull', 'DockerTimeout');
    m.dockerError('pull', 'DockerTimeout');
    m.dockerError('inspect', 'ContainerNotFound');
    m.observeDockerCall('create', 0.04);
    m.eventStreamReconnect();
    m.eventsWritten(3);
    m.eventsWritten(0);
    m.eventsWritten(2);
    m.observeDbWrite(0.0007);
    m.dbWriteError();

    expect(await sample(m, 'berth_docker_api_errors_total', { call: 'pull', code: 'DockerTimeout' })).toBe(2);
    expect(await sample(m, 'berth_docker_api_errors_total', { call: 'inspect', code: 'ContainerNotFound' })).toBe(1);
    expect(await sample(m, 'berth_docker_api_duration_seconds_bucket', { call: 'create', le: '0.05' })).toBe(1);
    expect(await sample(m, 'berth_docker_api_duration_seconds_bucket', { call: 'create', le: '0.025' })).toBe(0);
    expect(await sample(m, 'berth_event_stream_reconnects_total')).toBe(1);
    expect(await sample(m, 'berth_events_written_total')).toBe(5);
    expect(await sample(m, 'berth_db_write_duration_seconds_bucket', { le: '0.0005' })).toBe(0);
    expect(await sample(m, 'berth_db_write_duration_seconds_bucket', { le: '0.001' })).toBe(1);
    expect(await sample(m, 'berth_db_write_duration_seconds_bucket', { le: '5' })).toBe(1);
    expect(await sample(m, 'berth_db_write_errors_total')).toBe(1);
    expect(() => m.eventsWritten(-1)).toThrow();
  });

  it('fills the status gauges from the state source at scrape time, every status present', async () => {
    const m = newMetrics();
    // Before the engine registers a source, every status reads 0 rather than being absent.
    expect(await sample(m, 'berth_tasks', { status: 'RUNNING' })).toBe(0);
    expect(await sample(m, 'berth_containers', { status: 'NONE' })).toBe(0);

    let running = 2;
    m.setStateSource(() => ({
      tasks: { NONE: 0, PULLED: 0, CREATED: 1, RUNNING: running, STOPPED: 0 },
      containers: { NONE: 3, PULLED: 0, CREATED: 1, RUNNING: 2 * running, STOPPED: 7 },
    }));
    const { samples } = parse((await m.render()).body);
    const byStatus = (name: string): Record<string, number> =>
      Object.fromEntries(samples.filter((s) => s.name === name).map((s) => [s.labels.status, s.value]));
    expect(byStatus('berth_tasks')).toEqual({ NONE: 0, PULLED: 0, CREATED: 1, RUNNING: 2, STOPPED: 0 });
    expect(byStatus('berth_containers')).toEqual({ NONE: 3, PULLED: 0, CREATED: 1, RUNNING: 4, STOPPED: 7 });

    running = 0;
    expect(await sample(m, 'berth_tasks', { status: 'RUNNING' })).toBe(0);
    expect(await sample(m, 'berth_containers', { status: 'RUNNING' })).toBe(0);
  });

  it('keeps each instance in its own registry', async () => {
    const a = newMetrics();
    const b = newMetrics();
    a.observeTransition('create', 'success', 0.1);
    a.eventStreamReconnect();
    a.setStateSource(() => ({
      tasks: { NONE: 0, PULLED: 0, CREATED: 0, RUNNING: 5, STOPPED: 0 },
      containers: { NONE: 0, PULLED: 0, CREATED: 0, RUNNING: 9, STOPPED: 0 },
    }));

    expect(await sample(a, 'berth_transitions_total', { kind: 'create', result: 'success' })).toBe(1);
    expect(await sample(b, 'berth_transitions_total', { kind: 'create', result: 'success' })).toBe(0);
    expect(await sample(b, 'berth_event_stream_reconnects_total')).toBe(0);
    expect(await sample(b, 'berth_tasks', { status: 'RUNNING' })).toBe(0);
  });

  it('adds process metrics under the prefix, and honours a custom prefix', async () => {
    const withDefaults = new AgentMetrics();
    const { type } = parse((await withDefaults.render()).body);
    expect(type.get('berth_process_cpu_seconds_total')).toBe('counter');

    const custom = new AgentMetrics({ prefix: 'other_', defaultMetrics: false });
    custom.eventStreamReconnect();
    expect(await sample(custom, 'other_event_stream_reconnects_total')).toBe(1);
    expect(await sample(custom, 'berth_event_stream_reconnects_total')).toBeUndefined();
  });
});

describe('instrumentDocker', () => {
  it('times successful calls and returns their answers unchanged', async () => {
    const m = newMetrics();
    const fake = new FakeDocker({ images: [IMAGE] });
    const docker = instrumentDocker(fake, m, steppingClock());

    await docker.pullImage(IMAGE);
    const id = await docker.createContainer(spec);
    await docker.startContainer(id);
    const info = await docker.inspectContainer(id);

    expect(info).toEqual(await fake.inspectContainer(id));
    expect(info.state).toBe('running');
    for (const call of ['pull', 'create', 'start', 'inspect']) {
      expect(await sample(m, 'berth_docker_api_duration_seconds_count', { call }), call).toBe(1);
      expect(await sample(m, 'berth_docker_api_duration_seconds_sum', { call }), call).toBeCloseTo(0.25);
    }
    expect(parse((await m.render()).body).samples.filter((s) => s.name === 'berth_docker_api_errors_total')).toEqual([]);
  });

  it('counts failures by call and error code and rethrows the identical error', async () => {
    const m = newMetrics();
    const fake = new FakeDocker({ images: [IMAGE] });
    const docker = instrumentDocker(fake, m, steppingClock());

    const timeout = new DockerTimeoutError('pull', 1000);
    fake.failNext('pull', timeout);
    await expect(docker.pullImage(IMAGE)).rejects.toBe(timeout);

    const plain = new Error('no code at all');
    fake.failNext('list', plain);
    await expect(docker.listContainers({})).rejects.toBe(plain);

    fake.setUnavailable(true);
    await expect(docker.ping()).rejects.toBeInstanceOf(DockerUnavailableError);

    expect(await sample(m, 'berth_docker_api_errors_total', { call: 'pull', code: 'DockerTimeout' })).toBe(1);
    expect(await sample(m, 'berth_docker_api_errors_total', { call: 'list', code: 'Unknown' })).toBe(1);
    expect(await sample(m, 'berth_docker_api_errors_total', { call: 'ping', code: 'DockerUnavailable' })).toBe(1);
    // Failed calls are timed too: a timeout is exactly the latency worth seeing.
    expect(await sample(m, 'berth_docker_api_duration_seconds_count', { call: 'pull' })).toBe(1);
  });

  it('counts ContainerNotFound on inspect, stop and remove, still throwing it', async () => {
    const m = newMetrics();
    const docker = instrumentDocker(new FakeDocker(), m);

    await expect(docker.inspectContainer('nope')).rejects.toBeInstanceOf(ContainerNotFoundError);
    await expect(docker.stopContainer('nope', 1)).rejects.toBeInstanceOf(ContainerNotFoundError);
    await expect(docker.removeContainer('nope')).rejects.toBeInstanceOf(ContainerNotFoundError);

    for (const call of ['inspect', 'stop', 'remove']) {
      expect(await sample(m, 'berth_docker_api_errors_total', { call, code: 'ContainerNotFound' }), call).toBe(1);
    }
  });

  it('passes events through and counts a stream that breaks as call "events"', async () => {
    const m = newMetrics();
    const fake = new FakeDocker({ images: [IMAGE] });
    const docker = instrumentDocker(fake, m);
    const controller = new AbortController();
    const stream = docker.containerEvents({ labels: { team: 't' }, signal: controller.signal });

    await fake.pullImage(IMAGE);
    const id = await fake.createContainer(spec);
    const seen: DockerEvent[] = [];
    const broke = (async () => {
      for await (const event of stream) {
        seen.push(event);
        if (seen.length === 1) fake.breakEventStreams();
      }
    })();

    const error = await broke.then(() => undefined, (err: unknown) => err);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect(seen).toEqual([expect.objectContaining({ dockerId: id, action: 'create' })]);
    expect(await sample(m, 'berth_docker_api_errors_total', { call: 'events', code: 'DockerUnavailable' })).toBe(1);
    controller.abort();
  });

  it('does not count a stream that ends because it was aborted', async () => {
    const m = newMetrics();
    const fake = new FakeDocker();
    const controller = new AbortController();
    const stream = instrumentDocker(fake, m).containerEvents({ labels: {}, signal: controller.signal });
    const done = (async () => {
      for await (const _ of stream) void _;
    })();
    controller.abort();
    await done;
    expect(await sample(m, 'berth_docker_api_errors_total', { call: 'events', code: 'DockerUnavailable' })).toBeUndefined();
  });

  it('labels errors by their string code, else Unknown', () => {
    expect(errorCode(new DockerTimeoutError('ping', 5))).toBe('DockerTimeout');
    expect(errorCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    expect(errorCode(Object.assign(new Error('x'), { code: 42 }))).toBe('Unknown');
    expect(errorCode('a string')).toBe('Unknown');
    expect(errorCode(undefined)).toBe('Unknown');
  });
});

describe('instrumentSaver', () => {
  const change = (taskArn: string): NewStateChange => ({ type: 'task', taskArn, status: 'RUNNING', at: '2024-01-01T00:00:00.000Z' });

  it('times commits and counts the events they wrote, returning them unchanged', async () => {
    const m = newMetrics();
    const inner = new MemorySaver();
    const saver = instrumentSaver(inner, m, steppingClock(2));

    const written = await saver.commit({ events: [change('a'), change('b'), change('c')] });
    await saver.commit({ events: [] });

    expect(written.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await saver.eventsAfter(0, 10)).toEqual(written);
    expect(await sample(m, 'berth_events_written_total')).toBe(3);
    expect(await sample(m, 'berth_db_write_duration_seconds_count')).toBe(2);
    expect(await sample(m, 'berth_db_write_duration_seconds_sum')).toBeCloseTo(0.004);
    expect(await sample(m, 'berth_db_write_duration_seconds_bucket', { le: '0.0025' })).toBe(2);
    expect(await sample(m, 'berth_db_write_errors_total')).toBe(0);
  });

  it('counts a failed commit and rethrows the identical error', async () => {
    const m = newMetrics();
    const inner = new MemorySaver();
    const saver = instrumentSaver(inner, m);
    const failure = new PersistenceError('disk full');
    inner.failNextCommit(failure);

    await expect(saver.commit({ events: [change('a')] })).rejects.toBe(failure);
    expect(await sample(m, 'berth_db_write_errors_total')).toBe(1);
    expect(await sample(m, 'berth_events_written_total')).toBe(0);
    expect(await sample(m, 'berth_db_write_duration_seconds_count')).toBe(1);
  });

  it('passes every other member through, including methods Saver does not declare yet', async () => {
    class GrowingSaver extends MemorySaver {
      // Reaches MemorySaver's #private state through inherited methods: breaks unless bound to the real object.
      async seqPlus(n: number): Promise<number> {
        return (await this.lastSeq()) + n;
      }
    }
    const inner = new GrowingSaver();
    const saver = instrumentSaver(inner, newMetrics());

    await saver.setMeta('agent-id', 'abc');
    expect(await saver.getMeta('agent-id')).toBe('abc');
    await saver.commit({ events: [change('a')] });
    expect(await saver.lastSeq()).toBe(1);
    expect(await (saver as GrowingSaver).seqPlus(10)).toBe(11);
    expect((saver as GrowingSaver).commits).toBe(1);
    expect(saver.close).toBe(saver.close);
    await saver.close();
    await expect(inner.lastSeq()).rejects.toBeInstanceOf(PersistenceError);
  });
});
