import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { createGunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * One line of an archive (JSON Lines, gzip): a `batch` header, then the rows one batch removed,
 * parents first. `row`: a removed row; `set`: the old values of columns a batch cleared (`key`
 * names the row); `context`: a row the others refer to, not removed, restored only where missing.
 */
export type ArchiveLine =
  | { op: 'batch'; tenantId: string; part: string; at: string; conversations: number }
  | { op: 'row' | 'context'; table: string; row: Record<string, unknown> }
  | { op: 'set'; table: string; key: Record<string, unknown>; row: Record<string, unknown> };

/** One file per tenant and day (UTC): `<dir>/<tenant>/<yyyy-mm-dd>.jsonl.gz`. */
export const archivePath = (dir: string, tenantId: string, at: Date) =>
  join(dir, tenantId, `${at.toISOString().slice(0, 10)}.jsonl.gz`);

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Adds `lines` to the archive at `path` as one more gzip member, durably, before the caller
 * deletes anything: the file so far is copied to a temp file beside it, the member appended, the
 * temp file fsynced and renamed over the archive, and the directory fsynced. A crash at any point
 * leaves the archive as it was or with the whole member, never a torn one. A crash after the
 * rename but before the caller's commit leaves rows archived that are still in the database: the
 * next run archives them again, and restore inserts each row once (`on conflict do nothing`).
 * One writer per tenant at a time (the job holds the tenant's advisory lock while it writes).
 */
export async function appendArchive(path: string, lines: ArchiveLine[]): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const member = await gzipAsync(Buffer.from(`${lines.map((l) => JSON.stringify(l)).join('\n')}\n`));
  const tmp = `${path}.${randomUUID()}.tmp`;
  try {
    await copyFile(path, tmp).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    const fh = await open(tmp, 'a');
    try {
      await fh.write(member);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncPath(dir);
}

/** Every line of an archive, in order (all its gzip members). */
export async function* readArchive(path: string): AsyncGenerator<ArchiveLine> {
  const lines = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim().length > 0) yield JSON.parse(line) as ArchiveLine;
  }
}
