import { open, type FileHandle } from 'node:fs/promises';
import { RouteDeliveryError, errorMessage } from '../../errors.js';
import type { RouteBackend } from '../route-backend.js';
import type { RouteRecord } from '../route-record.js';
import { recordJson } from './record-json.js';

/**
 * An append-only NDJSON file: one record per line. Opened in append mode, so lines from before a
 * restart stay and a line is never written over; the route's cursor is saved only after the
 * write returns, so a crash repeats a line (same `seq`) rather than losing one.
 */
export function fileBackend(route: string, path: string): RouteBackend {
  let file: Promise<FileHandle> | undefined;
  const handle = (): Promise<FileHandle> => {
    file ??= open(path, 'a', 0o600).catch((error: unknown) => {
      file = undefined;
      throw error;
    });
    return file;
  };
  return {
    describe: `file ${path}`,
    async deliver(record: RouteRecord): Promise<void> {
      try {
        await (await handle()).appendFile(recordJson(record) + '\n');
      } catch (error) {
        throw new RouteDeliveryError(route, `cannot append to ${path}: ${errorMessage(error)}`, { cause: error, retryable: true });
      }
    },
    async close(): Promise<void> {
      const open = file;
      file = undefined;
      await open?.then((f) => f.close()).catch(() => undefined);
    },
  };
}
