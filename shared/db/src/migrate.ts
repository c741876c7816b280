import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

export const migrationsFolder = fileURLToPath(new URL('../migrations', import.meta.url));

/** Creates the database named in `url` when it does not exist yet. */
export async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (rowCount === 0) {
      await client.query(`create database ${pg.escapeIdentifier(name)}`).catch((err: { code?: string }) => {
        if (err.code !== '42P04') throw err; // created concurrently by another migrator
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * Applies the committed migrations; an advisory lock lets concurrent callers take turns. `upTo`
 * stops after the migration with that index (tests use it to put data of an older version in
 * front of a later migration); a later call without it applies the rest. `folder` is for bundled
 * code (the built CLI), where this file's own location says nothing about where migrations are.
 */
export async function migrateDatabase(url: string, opts: { upTo?: number; folder?: string } = {}): Promise<void> {
  await ensureDatabase(url);
  const folder =
    opts.upTo === undefined ? (opts.folder ?? migrationsFolder) : await migrationsUpTo(opts.upTo, opts.folder);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock(7263001)');
    await migrate(drizzle(client), { migrationsFolder: folder });
  } finally {
    await client.end();
    if (opts.upTo !== undefined) await rm(folder, { recursive: true, force: true });
  }
}

/** A temporary copy of the migrations whose journal ends at index `upTo`. */
async function migrationsUpTo(upTo: number, source = migrationsFolder): Promise<string> {
  const journal = JSON.parse(await readFile(join(source, 'meta', '_journal.json'), 'utf8')) as {
    entries: Array<{ idx: number; tag: string }>;
  };
  const entries = journal.entries.filter((e) => e.idx <= upTo);
  if (!entries.some((e) => e.idx === upTo)) throw new Error(`no migration with index ${upTo}`);
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-migrations-'));
  await mkdir(join(dir, 'meta'));
  await writeFile(join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
  for (const e of entries) await copyFile(join(source, `${e.tag}.sql`), join(dir, `${e.tag}.sql`));
  return dir;
}
