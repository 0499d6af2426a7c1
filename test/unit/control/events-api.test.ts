import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateChange } from '../../../src/api/events.js';
import type { TaskView } from '../../../src/api/view.js';
import { MemorySaver } from '../../../src/state/memory-saver.js';
import { InProcessAgent, taskBody } from '../../support/in-process-agent.js';

let a: InProcessAgent;
beforeEach(() => {
  a = new InProcessAgent();
});
afterEach(() => a.dispose());

/** Opens an NDJSON stream and collects its lines until `until` holds for them, then hangs up. */
function streamLines(path: string, until: (lines: unknown[]) => boolean, ms = 5_000): Promise<{ status: number; lines: unknown[] }> {
  return new Promise((resolve, reject) => {
    const lines: unknown[] = [];
    const req = request({ socketPath: a.client.socketPath, path, headers: { accept: 'application/x-ndjson' } }, (res) => {
      let buffer = '';
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`stream ${path} gave ${lines.length} lines in ${ms} ms: ${JSON.stringify(lines)}`));
      }, ms);
      const finish = (): void => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, lines });
      };
      if (res.statusCode !== 200) {
        res.on('data', (d: Buffer) => (buffer += d.toString()));
        res.on('end', () => {
          lines.push(JSON.parse(buffer));
          finish();
        });
        return;
      }
      res.on('data', (d: Buffer) => {
        buffer += d.toString();
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
        }
        if (until(lines)) finish();
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe('event feed', () => {
  it('streams the backlog then live events as NDJSON, each once, in seq order', async () => {
    await a.start();
    await a.client.post('/v1/tasks', taskBody('arn:one'));
    await a.untilStatus('arn:one', 'RUNNING');
    const backlog = (await a.client.get<{ last: number }>('/v1/events?after=0')).body.last;
    const streaming = streamLines('/v1/events?after=2', (lines) =>
      lines.some((l) => (l as StateChange).taskArn === 'arn:two' && (l as StateChange).type === 'task' && (l as StateChange).status === 'RUNNING'),
    );
    await a.client.post('/v1/tasks', taskBody('arn:two'));
    const { status, lines } = await streaming;
    expect(status).toBe(200);
    const seqs = (lines as StateChange[]).map((l) => l.seq);
    expect(seqs[0]).toBe(3);
    expect(seqs).toEqual(seqs.map((_, i) => i + 3));
    expect(seqs.at(-1)!).toBeGreaterThan(backlog);
  });

  it('answers 410 CursorExpired when events after the cursor were pruned, and says where to resume', async () => {
    const saver = new MemorySaver();
    a = new InProcessAgent({ saver });
    await a.start();
    await a.client.post('/v1/tasks', taskBody('arn:one'));
    await a.untilStatus('arn:one', 'RUNNING');
    const last = (await a.client.get<{ last: number }>('/v1/events?after=0')).body.last;
    await saver.pruneEvents({ keepLast: 2, olderThan: '1970-01-01T00:00:00.000Z' });
    const gone = await a.client.get<{ error: { code: string; resumeAfter: number } }>('/v1/events?after=0');
    expect(gone.status).toBe(410);
    expect(gone.body.error).toMatchObject({ code: 'CursorExpired', resumeAfter: last });
    expect((await streamLines('/v1/events?after=0', () => true)).status).toBe(410);
    const fine = await a.client.get<{ events: StateChange[] }>(`/v1/events?after=${last - 2}`);
    expect(fine.status).toBe(200);
    expect(fine.body.events).toHaveLength(2);
  });

  it('a long poll is woken by an event saved while its first read is in flight', async () => {
    const saver = new MemorySaver();
    let injected = false;
    const read = saver.eventsAfter.bind(saver);
    saver.eventsAfter = async (after, limit) => {
      const before = await read(after, limit);
      if (!injected) {
        injected = true;
        await a.client.post('/v1/tasks', taskBody('arn:during'));
      }
      return before;
    };
    a = new InProcessAgent({ saver });
    await a.start();
    const res = await a.client.get<{ events: StateChange[] }>('/v1/events?after=0&wait=60');
    expect(res.body.events.length).toBeGreaterThan(0);
  });

  it('answers 410 CursorAhead for a cursor past the newest event', async () => {
    await a.start();
    const res = await a.client.get<{ error: { code: string } }>('/v1/events?after=99');
    expect(res.status).toBe(410);
    expect(res.body.error.code).toBe('CursorAhead');
  });

  it('keeps the feed bounded: retention runs on its interval', async () => {
    await a.start({ eventRetentionCount: '3' }, { eventRetentionIntervalMs: 20 });
    await a.client.post('/v1/tasks', taskBody('arn:one'));
    await a.untilStatus('arn:one', 'RUNNING');
    await new Promise((r) => setTimeout(r, 80));
    const kept = await a.saver.eventsAfter(0, 100);
    expect(kept).toHaveLength(3);
    expect(kept.at(-1)!.seq).toBe(await a.saver.lastSeq());
  });
});

describe('task filters', () => {
  it('filters by status and family, and refuses mixing them with taskarn', async () => {
    await a.start();
    await a.client.post('/v1/tasks', taskBody('arn:web', { family: 'web' }));
    await a.client.post('/v1/tasks', taskBody('arn:db', { family: 'db' }));
    await a.untilStatus('arn:web', 'RUNNING');
    await a.untilStatus('arn:db', 'RUNNING');
    await a.client.post('/v1/tasks', { arn: 'arn:db', desiredStatus: 'STOPPED' });
    await a.untilStatus('arn:db', 'STOPPED');
    const list = async (q: string) => (await a.client.get<{ tasks: TaskView[] }>(`/v1/tasks?${q}`)).body.tasks.map((t) => t.arn);
    expect(await list('status=RUNNING')).toEqual(['arn:web']);
    expect(await list('status=STOPPED')).toEqual(['arn:db']);
    expect(await list('family=db')).toEqual(['arn:db']);
    expect(await list('family=db&status=RUNNING')).toEqual([]);
    expect((await a.client.get('/v1/tasks?status=BOGUS')).status).toBe(400);
    expect((await a.client.get('/v1/tasks?taskarn=arn:web&status=RUNNING')).status).toBe(400);
  });
});

describe('GET /metrics', () => {
  it('exposes task and container counts, transitions and events written in Prometheus format', async () => {
    await a.start();
    await a.client.post('/v1/tasks', taskBody('arn:one'));
    await a.untilStatus('arn:one', 'RUNNING');
    const res = await a.client.get<string>('/metrics');
    expect(res.status).toBe(200);
    const text = res.body;
    expect(text).toContain('berth_tasks{status="RUNNING"} 1');
    expect(text).toContain('berth_containers{status="RUNNING"} 1');
    expect(text).toMatch(/berth_transitions_total\{kind="pull",result="success"\} 1/);
    expect(text).toMatch(/berth_events_written_total \d+/);
    expect(text).toContain('# TYPE berth_db_write_duration_seconds histogram');
  });
});

describe('GET /v1/progress', () => {
  it('streams pull progress for the task until the pull completes', async () => {
    await a.start();
    let release!: () => void;
    a.docker.delayNext('pull', new Promise<void>((r) => (release = r)));
    await a.client.post('/v1/tasks', taskBody('arn:one'));
    const streaming = streamLines('/v1/progress?taskarn=arn:one', (lines) => lines.some((l) => (l as { done: boolean }).done));
    await new Promise((r) => setTimeout(r, 20));
    release();
    const { lines } = await streaming;
    expect(lines.at(-1)).toMatchObject({ taskArn: 'arn:one', containerName: 'web', done: true });
    expect((await a.client.get('/v1/progress')).status).toBe(400);
  });
});
