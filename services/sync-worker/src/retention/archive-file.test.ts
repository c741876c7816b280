import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ArchiveLine, appendArchive, archivePath, readArchive } from './archive-file.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sb-archive-unit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = async (path: string) => {
  const lines: ArchiveLine[] = [];
  for await (const l of readArchive(path)) lines.push(l);
  return lines;
};

describe('archive files', () => {
  it('one file per tenant and UTC day', () => {
    expect(archivePath('/a', 't1', new Date('2026-06-01T23:59:59Z'))).toBe('/a/t1/2026-06-01.jsonl.gz');
  });

  it('appends each batch as a gzip member, readable in order, and leaves no temp file', async () => {
    const path = archivePath(dir, 't1', new Date('2026-06-01T00:00:00Z'));
    const first: ArchiveLine[] = [{ op: 'row', table: 'messages', row: { id: 'm1', body: 'héllo\nwörld' } }];
    const second: ArchiveLine[] = [
      { op: 'set', table: 'messages', key: { id: 'm2' }, row: { body: 'b' } },
      { op: 'context', table: 'tenants', row: { id: 't1' } },
    ];
    await appendArchive(path, first);
    await appendArchive(path, second);
    expect(await read(path)).toEqual([...first, ...second]);
    expect(await readdir(join(dir, 't1'))).toEqual(['2026-06-01.jsonl.gz']);
  });
});
