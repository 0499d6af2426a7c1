import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The file operations the metadata writer needs; tests give failing ones. */
export interface MetadataIo {
  /** Makes the directory (and its parents) and replaces the file with `content` atomically. */
  writeAtomic(file: string, content: string): Promise<void>;
  /** The file's content, or undefined when it cannot be read (missing). */
  read(file: string): Promise<string | undefined>;
  /** The names in a directory; none when it is missing. */
  list(dir: string): Promise<readonly string[]>;
  /** Removes a directory and everything in it; a missing one is already removed. */
  removeDir(dir: string): Promise<void>;
}

/**
 * Write a temporary file in the same directory, fsync it, rename it over the file: a reader (the
 * container, through its directory mount) sees the old content or the new, never a part.
 */
async function writeAtomic(file: string, content: string): Promise<void> {
  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = join(dir, `.${basename(file)}.${process.pid}.tmp`);
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

export const nodeMetadataIo: MetadataIo = {
  writeAtomic,
  read: (file) => readFile(file, 'utf8').catch(() => undefined),
  list: (dir) => readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error))),
  removeDir: (dir) => rm(dir, { recursive: true, force: true }),
};
