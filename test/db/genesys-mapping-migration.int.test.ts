import { migrateDatabase } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import pg from 'pg';
import { afterEach, beforeEach, expect, it } from 'vitest';

/**
 * Migration 0011 adds "at most one live conversation per Genesys conversation id" as a unique
 * index. Data written before it may break that rule; the migration must dedupe it rather than
 * fail the deploy. The database is migrated to 0010, given such data, then migrated the rest of
 * the way, as a deploy would.
 */
let database: TestDatabase;
let client: pg.Client;
beforeEach(async () => {
  database = await createTestDatabase({ empty: true });
  await migrateDatabase(database.url, { upTo: 10 });
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});
afterEach(async () => {
  await client.end();
  await database.drop();
});

const one = async <T>(text: string, values: unknown[] = []) => (await client.query(text, values)).rows[0] as T;

let phones = 10;
/** A WhatsApp conversation of its own customer (one live conversation per customer and channel). */
async function conversation(
  tenant: string,
  channel: string,
  c: { genesys: string | null; status: string; lastActivity: string },
) {
  phones += 1;
  const customer = await one<{ id: string }>(
    'insert into customers (tenant_id, phone_e164) values ($1, $2) returning id',
    [tenant, `+163155510${phones}`],
  );
  const row = await one<{ id: string }>(
    `insert into conversations (tenant_id, customer_id, channel_id, provider, status, genesys_conversation_id, last_activity_at)
     values ($1, $2, $3, 'whatsapp', $4, $5, $6) returning id`,
    [tenant, customer.id, channel, c.status, c.genesys, c.lastActivity],
  );
  return row.id;
}

async function tenantWithChannel(slug: string) {
  const t = await one<{ id: string }>('insert into tenants (slug, name) values ($1, $1) returning id', [slug]);
  const ch = await one<{ id: string }>(
    `insert into channels (tenant_id, provider, account_id) values ($1, 'whatsapp', $2) returning id`,
    [t.id, `${slug}-number`],
  );
  return { tenant: t.id, channel: ch.id };
}

it('keeps each Genesys id on its most recently active live conversation, clears it on the others, then indexes it', async () => {
  const a = await tenantWithChannel('tenant-a');
  const b = await tenantWithChannel('tenant-b');
  const live = (t: typeof a, genesys: string | null, lastActivity: string, status = 'open') =>
    conversation(t.tenant, t.channel, { genesys, status, lastActivity });

  const g1Older = await live(a, 'g-1', '2025-03-01T10:00:00Z');
  const g1Latest = await live(a, 'g-1', '2025-03-01T12:00:00Z', 'active');
  const g1Closed = await live(a, 'g-1', '2025-03-02T09:00:00Z', 'closed');
  const g2Alone = await live(a, 'g-2', '2025-03-01T08:00:00Z');
  const g3 = [
    await live(a, 'g-3', '2025-03-03T08:00:00Z'),
    await live(a, 'g-3', '2025-03-03T09:00:00Z'),
    await live(a, 'g-3', '2025-03-03T07:00:00Z'),
  ];
  const otherTenantG1 = await live(b, 'g-1', '2025-03-01T11:00:00Z');
  const unmapped = await live(a, null, '2025-03-01T11:00:00Z');

  await migrateDatabase(database.url);

  const { rows } = await client.query<{ id: string; genesys_conversation_id: string | null; version: number }>(
    'select id, genesys_conversation_id, version from conversations',
  );
  const after = new Map(rows.map((r) => [r.id, r]));
  const mapping = (id: string) => after.get(id)?.genesys_conversation_id;
  const version = (id: string) => after.get(id)?.version;
  // The latest live one keeps the mapping; the other live one loses it (and moves its version on).
  expect(mapping(g1Latest)).toBe('g-1');
  expect(mapping(g1Older)).toBeNull();
  expect(version(g1Older)).toBe(2);
  expect(version(g1Latest)).toBe(1);
  // Closed conversations may share it; alone, or another tenant's, nothing changes.
  expect(mapping(g1Closed)).toBe('g-1');
  expect(mapping(g2Alone)).toBe('g-2');
  expect(mapping(otherTenantG1)).toBe('g-1');
  expect(mapping(unmapped)).toBeNull();
  expect(g3.map(mapping)).toEqual([null, 'g-3', null]);
  expect(
    rows
      .filter((r) => r.version !== 1)
      .map((r) => r.id)
      .sort(),
  ).toEqual([g1Older, g3[0], g3[2]].sort());

  // The index holds from now on.
  await expect(live(a, 'g-1', '2025-03-04T10:00:00Z')).rejects.toMatchObject({
    code: '23505',
    constraint: 'conversations_genesys_live_uq',
  });
  // And the schema is the one every other test runs on: the rest of the migrations applied.
  const { rows: applied } = await client.query('select count(*)::int n from drizzle.__drizzle_migrations');
  expect(applied[0]?.n).toBeGreaterThan(11);
});
