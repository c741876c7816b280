import { migrateDatabase } from '@switchboard/db';
import pg from 'pg';
import { appRoleUrl, databaseUrl, TEMPLATE_DB, uniqueSuffix } from './env.ts';

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Vitest global setup: makes sure the migrated template exists (creating it is idempotent). */
export async function prepareTemplate(): Promise<void> {
  await migrateDatabase(databaseUrl(TEMPLATE_DB));
}

export interface TestDatabase {
  name: string;
  /** As the tables' owner (a superuser locally): for migrations, seeding and a test's own checks. */
  url: string;
  /** As the services' role, under Row-Level Security: what every service under test connects with. */
  appUrl: string;
  drop(): Promise<void>;
}

/**
 * A fresh database cloned from the migrated template; `drop()` removes it. `empty`: no tables at
 * all, for a test that migrates it itself (`migrateDatabase(url, { upTo })`).
 */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `sbt_${Date.now().toString(36)}_${uniqueSuffix()}`;
  if (opts.empty) await admin((c) => c.query(`create database ${name}`));
  // Cloning needs the template to have no other sessions; retry briefly if a clone races us.
  for (let attempt = 0; !opts.empty; attempt++) {
    try {
      await admin((c) => c.query(`create database ${name} template ${TEMPLATE_DB}`));
      break;
    } catch (err) {
      if (attempt >= 20 || (err as { code?: string }).code !== '55006') throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    name,
    url: databaseUrl(name),
    appUrl: appRoleUrl(databaseUrl(name)),
    drop: () => admin((c) => c.query(`drop database if exists ${name} with (force)`)).then(() => undefined),
  };
}

/**
 * Drops databases left behind by runs killed before their cleanup ran: those created more than
 * an hour ago (the name carries its creation time), so a concurrent run keeps its own.
 */
export async function dropStaleTestDatabases(): Promise<void> {
  await admin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `select datname from pg_database where datname like 'sbt\\_%' and datname not like 'sbt\\_template\\_%'`,
    );
    const cutoff = Date.now() - 60 * 60 * 1000;
    for (const { datname } of rows) {
      const created = Number.parseInt(datname.split('_')[1] ?? '', 36);
      if (Number.isFinite(created) && created < cutoff)
        await c.query(`drop database if exists ${datname} with (force)`);
    }
  });
}
