import type { LogChunk } from './docker-client.js';

/** One line of a container's output, without its newline, decoded as UTF-8 (bad bytes become U+FFFD). */
export interface LogLine {
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
  /** Docker's RFC3339 time of the line (nanoseconds, UTC), when timestamps were asked for. */
  readonly time?: string;
}

// Docker's RFC3339NanoFixed; the fake writes the same.
const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/**
 * Lines from chunks, each stream on its own: a line cut across chunks is put back together, and
 * bytes are decoded only once a line is whole, so a character split between chunks survives. A
 * last line without a newline comes out when the chunks end.
 */
export async function* logLines(chunks: AsyncIterable<LogChunk>, timestamps: boolean): AsyncGenerator<LogLine> {
  const pending: Record<LogChunk['stream'], Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  for await (const chunk of chunks) {
    let rest = pending[chunk.stream].length === 0 ? chunk.data : Buffer.concat([pending[chunk.stream], chunk.data]);
    let nl: number;
    while ((nl = rest.indexOf(0x0a)) >= 0) {
      yield toLine(chunk.stream, rest.subarray(0, nl), timestamps);
      rest = rest.subarray(nl + 1);
    }
    pending[chunk.stream] = Buffer.from(rest);
  }
  for (const stream of ['stdout', 'stderr'] as const) {
    if (pending[stream].length > 0) yield toLine(stream, pending[stream], timestamps);
  }
}

function toLine(stream: LogChunk['stream'], bytes: Buffer, timestamps: boolean): LogLine {
  // A TTY ends its lines with \r\n; the \r is the terminal's, not the program's.
  const text = bytes.toString('utf8').replace(/\r$/, '');
  const stamped = timestamps ? TIMESTAMP.exec(text) : null;
  if (!stamped) return { stream, line: text };
  return { stream, line: text.slice(stamped[0].length), time: stamped[1]! };
}

/** Docker's RFC3339NanoFixed rendering of an epoch-millisecond time, as its `timestamps` prefix reads. */
export function dockerLogTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}
