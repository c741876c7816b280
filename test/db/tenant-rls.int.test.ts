import { createDb, type Db, seedTenant, statementInTenant } from '@switchboard/db';
import { APP_ROLE, asAppRole, createTestDatabase, pgCodeOf, type TestDatabase } from '@switchboard/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Tables with a tenant_id column that are deliberately outside Row-Level Security. Each needs a
 * reason; a table added to the schema with a tenant_id column and without
 * `select switchboard_enable_tenant_rls('<table>')` in its migration fails the test below.
 */
const SYSTEM_TABLES: Record<string, string> = {
  // The registry that resolves an inbound event's or a request's tenant: read before any tenant is
  // known, holds no customer data, and the services may only read it (migration 0020 revokes
  // their writes; the CLI, as the owner, writes it).
  channels: 'tenant resolution: provider account → tenant',
  channel_secrets: 'tenant resolution: the edges verify signatures with these before a tenant is known',
  api_tokens: 'tenant resolution: bearer token hash → tenant and scopes',
  // Learned by the sync-worker from messages (which name both the WABA and the phone number), read
  // for account-level webhooks, which name only the WABA: before their tenant is known.
  whatsapp_business_accounts: 'tenant resolution: WhatsApp Business Account → tenant',
  // Written in the same transaction as the tenant's change, read by the relay for every tenant
  // (a system process). Its payloads do hold tenant data: published rows are pruned after
  // OUTBOX_RETENTION_HOURS, and erasure scrubs the ones not yet pruned.
  outbox: 'the relay publishes every tenant’s events',
};

/** Tables with a tenant_id column, and whether RLS is enabled, forced and the tenant policy there. */
async function tenantTables(c: pg.Client) {
  const { rows } = await c.query<{ table: string; enabled: boolean; forced: boolean; policy: boolean }>(`
    select c.relname as table, c.relrowsecurity as enabled, c.relforcerowsecurity as forced,
           exists (select 1 from pg_policies p
                    where p.schemaname = 'public' and p.tablename = c.relname and p.policyname = 'tenant_isolation') as policy
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'public' and c.relkind in ('r', 'p')
       and exists (select 1 from pg_attribute a
                    where a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped)
     order by 1`);
  return rows;
}

const unguarded = (rows: Awaited<ReturnType<typeof tenantTables>>) =>
  rows.filter((r) => !(r.table in SYSTEM_TABLES) && !(r.enabled && r.forced && r.policy)).map((r) => r.table);

let database: TestDatabase;
let db: Db;
let owner: pg.PoolClient;
const tenant = { a: '', b: '' };
beforeAll(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 2 });
  owner = await db.pool.connect();
  const a = await seedTenant(db.db, {
    slug: 'rls-a',
    name: 'A',
    channels: [{ provider: 'whatsapp', accountId: 'a1' }],
  });
  const b = await seedTenant(db.db, {
    slug: 'rls-b',
    name: 'B',
    channels: [{ provider: 'whatsapp', accountId: 'b1' }],
  });
  tenant.a = a.tenantId;
  tenant.b = b.tenantId;
  // Two customers and one conversation each, written as the owner.
  for (const [t, channel] of [
    [a.tenantId, a.channels.whatsapp],
    [b.tenantId, b.channels.whatsapp],
  ] as const) {
    const { rows } = await owner.query<{ id: string }>(
      `insert into customers (tenant_id, name) values ($1, 'first'), ($1, 'second') returning id`,
      [t],
    );
    await owner.query(
      `insert into conversations (tenant_id, customer_id, channel_id, provider) values ($1, $2, $3, 'whatsapp')`,
      [t, rows[0]?.id, channel],
    );
    await owner.query(`insert into operators (tenant_id, id, display_name) values ($1, 'op', 'Op')`, [t]);
  }
});
afterAll(async () => {
  owner.release();
  await db.pool.end();
  await database.drop();
});

describe('the migrations', () => {
  it('enable and force Row-Level Security, with the tenant policy, on every table with a tenant_id', async () => {
    const rows = await tenantTables(owner as unknown as pg.Client);
    expect(unguarded(rows)).toEqual([]);
    // The allow-list names only tables that exist and are not guarded anyway: no stale entry.
    const system = rows.filter((r) => r.table in SYSTEM_TABLES);
    expect(system.map((r) => r.table).sort()).toEqual(Object.keys(SYSTEM_TABLES).sort());
    expect(system.filter((r) => r.enabled)).toEqual([]);
  });

  it('a new tenant table without RLS fails that check; the one-line function fixes it', async () => {
    await owner.query('begin');
    try {
      await owner.query('create table rls_probe (id int primary key, tenant_id uuid not null)');
      expect(unguarded(await tenantTables(owner as unknown as pg.Client))).toEqual(['rls_probe']);
      await owner.query(`select switchboard_enable_tenant_rls('rls_probe')`);
      expect(unguarded(await tenantTables(owner as unknown as pg.Client))).toEqual([]);
    } finally {
      await owner.query('rollback');
    }
  });

  it('make the services’ role one that cannot bypass RLS: no superuser, no BYPASSRLS, owner of nothing', async () => {
    const { rows } = await owner.query<{ rolsuper: boolean; rolbypassrls: boolean; owns: number }>(
      `select r.rolsuper, r.rolbypassrls,
              (select count(*)::int from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'public' and c.relowner = r.oid) as owns
         from pg_roles r where r.rolname = $1`,
      [APP_ROLE],
    );
    expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false, owns: 0 }]);
  });
});

describe('as the services’ role, with no tenant filter in the query', () => {
  it('sees only the transaction’s tenant, in every tenant table', async () => {
    const seen = await asAppRole(database.appUrl, tenant.a, async (c) => ({
      customers: (await c.query('select tenant_id from customers')).rows,
      conversations: (await c.query('select tenant_id from conversations')).rows,
      operators: (await c.query('select tenant_id from operators')).rows,
    }));
    expect(seen.customers).toEqual([{ tenant_id: tenant.a }, { tenant_id: tenant.a }]);
    expect(seen.conversations).toEqual([{ tenant_id: tenant.a }]);
    expect(seen.operators).toEqual([{ tenant_id: tenant.a }]);
    const guarded = (await tenantTables(owner as unknown as pg.Client)).filter((r) => !(r.table in SYSTEM_TABLES));
    const foreign = await asAppRole(database.appUrl, tenant.a, async (c) => {
      let n = 0;
      for (const { table } of guarded) {
        const r = await c.query<{ n: number }>(
          `select count(*)::int as n from ${table} where tenant_id is distinct from $1`,
          [tenant.a],
        );
        n += r.rows[0]?.n ?? 0;
      }
      return n;
    });
    expect(foreign).toBe(0);
  });

  it('sees no tenant rows at all outside a tenant’s transaction', async () => {
    const counts = await asAppRole(database.appUrl, null, async (c) => [
      (await c.query('select count(*)::int as n from customers')).rows[0],
      (await c.query('select count(*)::int as n from conversations')).rows[0],
    ]);
    expect(counts).toEqual([{ n: 0 }, { n: 0 }]);
  });

  it('the conversation search (an owner function, for its indexes) keeps to the transaction’s tenant', async () => {
    const search = (t: string | null) =>
      asAppRole(database.appUrl, t, async (c) =>
        (await c.query<{ id: string }>(`select switchboard_search_conversations('%first%') as id`)).rows.map(
          (r) => r.id,
        ),
      );
    const own = await owner.query<{ id: string; tenant_id: string }>('select id, tenant_id from conversations');
    const of = (t: string) => own.rows.filter((r) => r.tenant_id === t).map((r) => r.id);
    // Both tenants have a customer named 'first' with a conversation: each sees its own only.
    expect(await search(tenant.a)).toEqual(of(tenant.a));
    expect(await search(tenant.b)).toEqual(of(tenant.b));
    expect(await search(null)).toEqual([]);
  });

  it('cannot change, delete, insert or move another tenant’s rows', async () => {
    const changed = await asAppRole(database.appUrl, tenant.a, async (c) => ({
      updated: (await c.query(`update customers set name = 'renamed'`)).rowCount,
      deleted: (await c.query('delete from operators where tenant_id = $1', [tenant.b])).rowCount,
    }));
    expect(changed).toEqual({ updated: 2, deleted: 0 });
    const b = await owner.query('select name from customers where tenant_id = $1 order by name', [tenant.b]);
    expect(b.rows).toEqual([{ name: 'first' }, { name: 'second' }]);
    expect((await owner.query('select 1 from operators where tenant_id = $1', [tenant.b])).rowCount).toBe(1);

    const insert = asAppRole(database.appUrl, tenant.a, (c) =>
      c.query(`insert into customers (tenant_id, name) values ($1, 'planted')`, [tenant.b]),
    );
    expect(await pgCodeOf(insert)).toBe('42501');
    const move = asAppRole(database.appUrl, tenant.a, (c) =>
      c.query('update customers set tenant_id = $1', [tenant.b]),
    );
    expect(await pgCodeOf(move)).toBe('42501');
    expect((await owner.query('select 1 from customers where tenant_id = $1', [tenant.b])).rowCount).toBe(2);
  });

  it('cannot write the tenant registry, which it reads to learn a tenant', async () => {
    const read = await asAppRole(database.appUrl, null, (c) => c.query('select count(*)::int as n from channels'));
    expect(read.rows).toEqual([{ n: 2 }]);
    for (const statement of [
      `update channels set status = 'disabled'`,
      `delete from api_tokens`,
      `insert into tenants (slug, name) values ('x', 'x')`,
      `update channel_secrets set secret = 'x'`,
    ]) {
      expect(await pgCodeOf(asAppRole(database.appUrl, null, (c) => c.query(statement))), statement).toBe('42501');
    }
  });
});

describe('one statement as its own transaction under a tenant, in one round trip (statementInTenant)', () => {
  it('sees only its tenant, takes its values as literals, and leaves no tenant on the connection', async () => {
    const app = createDb(database.appUrl, { max: 1, applicationName: 'rls-one-trip' });
    try {
      const odd = `it's \\ a 'quoted' \\' value; select 1; --`;
      const statement = (values: unknown[]) => ({
        name: 'rls_probe',
        text: 'select c.tenant_id::text as tenant_id, $1::text as echo, $2::int as n, $3::text[] as list from customers c order by c.name',
        values,
      });
      // An array's elements are quoted in its literal: commas, braces, quotes and backslashes stay theirs.
      const list = [odd, 'a,b', '{x}', '"q"', 'NULL', ''];
      const rows = await statementInTenant<{ tenant_id: string; echo: string; n: number; list: string[] }>(
        app.pool,
        tenant.a,
        statement([odd, 7, list]),
      );
      expect(rows).toEqual([
        { tenant_id: tenant.a, echo: odd, n: 7, list },
        { tenant_id: tenant.a, echo: odd, n: 7, list },
      ]);
      const b = await statementInTenant<{ tenant_id: string }>(app.pool, tenant.b, statement([null, null, null]));
      expect(b.map((r) => r.tenant_id)).toEqual([tenant.b, tenant.b]);
      // The pool's one connection: no tenant setting left, no tenant rows, no transaction open,
      // and the statement prepared on it once.
      const after = await app.pool.query<{ tenant: string | null; n: number; open: boolean; prepared: number }>(
        `select nullif(current_setting('app.tenant_id', true), '') as tenant,
                (select count(*)::int from customers) as n,
                now() <> statement_timestamp() as open,
                (select count(*)::int from pg_prepared_statements where name like 'rls_probe%') as prepared`,
      );
      expect(after.rows).toEqual([{ tenant: null, n: 0, open: false, prepared: 1 }]);
    } finally {
      await app.pool.end();
    }
  });

  it('rolls back a statement that fails, keeps the connection usable, and refuses a tenant that is not a UUID', async () => {
    const app = createDb(database.appUrl, { max: 1, applicationName: 'rls-one-trip' });
    try {
      const plant = {
        name: 'rls_plant',
        text: `insert into customers (tenant_id, name) values ($1, 'planted')`,
        values: [tenant.b],
      };
      expect(await pgCodeOf(statementInTenant(app.pool, tenant.a, plant))).toBe('42501');
      expect((await app.pool.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
      expect((await owner.query(`select 1 from customers where name = 'planted'`)).rowCount).toBe(0);
      await expect(statementInTenant(app.pool, `${tenant.a}'; reset role; --`, plant)).rejects.toThrow(
        /not a tenant id/,
      );
      await expect(
        statementInTenant(app.pool, tenant.a, { ...plant, values: [{ toPostgres: () => tenant.b }] }),
      ).rejects.toThrow(/not a value/);
    } finally {
      await app.pool.end();
    }
  });
});
