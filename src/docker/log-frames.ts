import type { LogChunk } from './docker-client.js';

/**
 * Docker's multiplexed log stream (a container without a TTY): frames of an 8-byte header —
 * stream type (1 stdout, 2 stderr; 0 stdin never comes from logs), three zero bytes, payload
 * length as a big-endian uint32 — then the payload. Frames arrive cut anywhere by the transport,
 * so bytes are held until a frame is whole.
 */
export async function* demuxLogFrames(source: AsyncIterable<Buffer | string>): AsyncGenerator<LogChunk> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const piece of source) {
    pending = pending.length === 0 ? toBuffer(piece) : Buffer.concat([pending, toBuffer(piece)]);
    while (pending.length >= 8) {
      const type = pending[0]!;
      const length = pending.readUInt32BE(4);
      if (type > 2 || pending[1] !== 0 || pending[2] !== 0 || pending[3] !== 0) {
        throw new Error(`Docker's log stream is not multiplexed as expected (frame header ${pending.subarray(0, 8).toString('hex')})`);
      }
      if (pending.length < 8 + length) break;
      const data = pending.subarray(8, 8 + length);
      pending = pending.subarray(8 + length);
      if (data.length > 0) yield { stream: type === 2 ? 'stderr' : 'stdout', data: Buffer.from(data) };
    }
  }
  if (pending.length > 0) throw new Error(`Docker's log stream ended inside a frame (${pending.length} bytes left over)`);
}

/** A TTY container's stream: raw bytes, all of it stdout. */
export async function* rawLogChunks(source: AsyncIterable<Buffer | string>): AsyncGenerator<LogChunk> {
  for await (const piece of source) {
    const data = toBuffer(piece);
    if (data.length > 0) yield { stream: 'stdout', data };
  }
}

function toBuffer(piece: Buffer | string): Buffer {
  return typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
}
