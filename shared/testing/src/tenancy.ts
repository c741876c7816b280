import { setTenantSql } from '@switchboard/db';
import pg from 'pg';

/**
 * Runs `fn` on a connection of its own as the services' role (`appUrl`, see TestDatabase), in one
 * transaction under `tenantId` (null: under no tenant), committed when `fn` returns and rolled
 * back when it throws. For tests that query with no tenant filter at all and show that Row-Level
 * Security alone keeps them to the tenant: never product code, which goes through the worker kit.
 */
export async function asAppRole<T>(
  appUrl: string,
  tenantId: string | null,
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: appUrl, application_name: 'rls-test' });
  await client.connect();
  try {
    await client.query(tenantId === null ? 'begin' : `begin; ${setTenantSql(tenantId)}`);
    try {
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback');
      throw err;
    }
  } finally {
    await client.end();
  }
}

/** The error code a statement failed with (e.g. 42501: a row-level security policy refused it). */
export const pgCodeOf = (p: Promise<unknown>): Promise<string | undefined> =>
  p.then(
    () => undefined,
    (err: { code?: string }) => err.code ?? 'no code',
  );
