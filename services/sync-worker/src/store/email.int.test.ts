import { createDb, devTenant, seedTenant, transaction } from '@switchboard/db';
import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { upsertAndLockEmailCustomer } from './email.ts';
import { customersOfNewEmails } from './email-round.ts';

let database: TestDatabase;
let db: ReturnType<typeof createDb>;
let tenantId: string;
beforeEach(async () => {
  database = await createTestDatabase();
  db = createDb(database.url, { max: 4, applicationName: 'email-store-test' });
  tenantId = (await seedTenant(db.db, devTenant)).tenantId;
});
afterEach(async () => {
  await db.pool.end();
  await database.drop();
});

/** The customer's id and what the transaction told the lookup cache to invalidate. */
const upsert = (email: string, name: string | null) =>
  transaction(db.pool, async (tx) => {
    const id = await upsertAndLockEmailCustomer(tx, tenantId, email, name);
    const res = await tx.execute<{ keys: string | null }>(
      sql`select current_setting('switchboard.lookup_keys', true) as keys`,
    );
    return { id, keys: (res.rows[0]?.keys ?? '').split('\n').filter(Boolean) };
  });
const customer = async (id: string) =>
  (
    await db.pool.query<{ name: string | null; email: string | null; xmin: string }>(
      'select name, email, xmin::text from customers where id = $1',
      [id],
    )
  ).rows[0];

describe('upsertAndLockEmailCustomer', () => {
  it('creates a customer once per address, and names it only when it has no name', async () => {
    const first = await upsert('lead@example.com', null);
    expect(first.keys).toContain(`${tenantId}:cust:${first.id}`);
    expect(await customer(first.id)).toMatchObject({ name: null, email: 'lead@example.com' });

    const named = await upsert('lead@example.com', 'Lead One');
    expect(named.id).toBe(first.id);
    expect(named.keys).toContain(`${tenantId}:cust:${first.id}`);
    expect((await customer(first.id))?.name).toBe('Lead One');

    const renamed = await upsert('lead@example.com', 'Someone Else');
    expect(renamed.id).toBe(first.id);
    expect((await customer(first.id))?.name).toBe('Lead One');
  });

  it('leaves a known customer unwritten when the email brings nothing new (no row version, no invalidation)', async () => {
    const { id } = await upsert('known@example.com', 'Known');
    const before = await customer(id);
    for (const name of [null, 'Known', 'Other']) {
      const again = await upsert('known@example.com', name);
      expect(again).toEqual({ id, keys: [] });
    }
    expect(await customer(id)).toEqual(before);
  });

  it('holds the customer row until commit: a concurrent erasure of the address waits, then the email gets a new customer', async () => {
    const { id } = await upsert('gone@example.com', null);
    let erased = false;
    await transaction(db.pool, async (tx) => {
      expect(await upsertAndLockEmailCustomer(tx, tenantId, 'gone@example.com', null)).toBe(id);
      // Another transaction takes the address away; it must wait for ours (the row lock).
      void db.pool.query('update customers set email = null where id = $1', [id]).then(() => {
        erased = true;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(erased).toBe(false);
    });
    await expect.poll(() => erased).toBe(true);
    const next = await upsert('gone@example.com', null);
    expect(next.id).not.toBe(id);
  });

  it('converges concurrent first emails of one address on one customer', async () => {
    const ids = await Promise.all(Array.from({ length: 4 }, () => upsert('race@example.com', 'Race')));
    expect(new Set(ids.map((r) => r.id)).size).toBe(1);
    const { rows } = await db.pool.query('select count(*)::int as n from customers where email = $1', [
      'race@example.com',
    ]);
    expect(rows[0]?.n).toBe(1);
  });

  it('for a new email, is null and touches no customer when its Message-ID is already stored', async () => {
    const { id } = await upsert('stored@example.com', null);
    const channel = (
      await db.pool.query<{ id: string }>(
        `insert into channels (tenant_id, provider, account_id) values ($1, 'mailgun', 'store-test.example') returning id`,
        [tenantId],
      )
    ).rows[0]?.id;
    const conversation = (
      await db.pool.query<{ id: string }>(
        `insert into conversations (tenant_id, channel_id, customer_id, provider, status)
         values ($1, $2, $3, 'mailgun', 'open') returning id`,
        [tenantId, channel, id],
      )
    ).rows[0]?.id;
    await db.pool.query(
      `insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type)
       values ($1, $2, 'inbound', 'mailgun', 'm-1@example.com', 'email')`,
      [tenantId, conversation],
    );
    const before = await customer(id);
    const stored = await transaction(db.pool, (tx) =>
      customersOfNewEmails(tx, tenantId, [
        { messageIdHeader: 'm-1@example.com', email: 'someone-new@example.com', name: 'New' },
      ]).then(([id]) => id ?? null),
    );
    expect(stored).toBeNull();
    const { rows } = await db.pool.query('select count(*)::int as n from customers where email = $1', [
      'someone-new@example.com',
    ]);
    expect(rows[0]?.n).toBe(0);
    expect(await customer(id)).toEqual(before);

    const fresh = await transaction(db.pool, (tx) =>
      customersOfNewEmails(tx, tenantId, [
        { messageIdHeader: 'm-2@example.com', email: 'stored@example.com', name: 'Named Now' },
      ]).then(([id]) => id ?? null),
    );
    expect(fresh).toBe(id);
    expect((await customer(id))?.name).toBe('Named Now');
  });
});
