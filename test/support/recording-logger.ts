import { Writable } from 'node:stream';
import winston from 'winston';

/** A debug-level logger that keeps every entry, message and fields, as one JSON line each. */
export function recordingLogger(): { log: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: Record<string, unknown>, _encoding, done) {
      lines.push(JSON.stringify(info));
      done();
    },
  });
  return { log: winston.createLogger({ level: 'debug', transports: [new winston.transports.Stream({ stream })] }), lines };
}
