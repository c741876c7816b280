import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOwner, lookupKeysOf } from '../fixtures/lookup-keys.ts';

/**
 * The lookup keys the conversations' statement triggers record (migration 0013; one query per
 * statement since `conversation_lookup_keys_set_based`): every key a conversation's lookups depend
 * on, before and after a change, so the read cache forgets every answer the change could alter.
 * Each case runs as the services do (switchboard_app, under its tenant) and is rolled back.
 */
let database: TestDatabase;
const T = '7e4a0000-0000-4000-8000-000000000001';
const WA_CHANNEL = '7e4a0000-0000-4000-8000-0000000000c1';
const GC_CHANNEL = '7e4a0000-0000-4000-8000-0000000000c2';
const KIM = '7e4a0000-0000-4000-8000-0000000000a1';
const LEE = '7e4a0000-0000-4000-8000-0000000000a2';
const ROY = '7e4a0000-0000-4000-8000-0000000000a3';
const KIM_WA = '7e4a0000-0000-4000-8000-0000000000b1';
const LEE_WA = '7e4a0000-0000-4000-8000-0000000000b2';
const KIM_GC = '7e4a0000-0000-4000-8000-0000000000b3';

beforeAll(async () => {
  database = await createTestDatabase();
  await asOwner(
    database,
    `
      insert into tenants (id, slug, name) values ('${T}', 'lookup-keys', 'Lookup keys');
      insert into channels (id, tenant_id, provider, account_id)
        values ('${WA_CHANNEL}', '${T}', 'whatsapp', 'lk-wa'), ('${GC_CHANNEL}', '${T}', 'genesys', 'lk-gc');
      insert into customers (id, tenant_id, phone_e164, whatsapp_id, name)
        values ('${KIM}', '${T}', '+15550001001', '15550001001', 'Kim'), ('${LEE}', '${T}', '+15550001002', '15550001002', 'Lee'),
               ('${ROY}', '${T}', '+15550001003', '15550001003', 'Roy');
      insert into conversations (id, tenant_id, channel_id, customer_id, provider, status, last_activity_at)
        values ('${KIM_WA}', '${T}', '${WA_CHANNEL}', '${KIM}', 'whatsapp', 'open', now()),
               ('${LEE_WA}', '${T}', '${WA_CHANNEL}', '${LEE}', 'whatsapp', 'open', now()),
               ('${KIM_GC}', '${T}', '${GC_CHANNEL}', '${KIM}', 'genesys', 'open', now());`,
  );
});
afterAll(async () => {
  await database.drop();
});

/** The keys `statement` records, as a sorted list without the tenant prefix; rolled back after. */
const keysOf = (statement: string) => lookupKeysOf(database, T, statement);

const conv = (id: string) => `conv:${id}`;
const cust = (id: string) => `cust:${id}`;

describe('conversation lookup keys', () => {
  it('an activity bump records the conversation, its customer and its WhatsApp id, once', async () => {
    expect(
      await keysOf(`update conversations set last_activity_at = now() + interval '1 minute', version = version + 1
                     where id in ('${KIM_WA}', '${KIM_GC}')`),
    ).toEqual([conv(KIM_WA), conv(KIM_GC), cust(KIM), 'wa:15550001001'].sort());
  });

  it('a Genesys id set, changed or cleared records the old id as well as the new', async () => {
    expect(await keysOf(`update conversations set genesys_conversation_id = 'g-1' where id = '${KIM_GC}'`)).toEqual(
      [conv(KIM_GC), cust(KIM), 'gc:g-1'].sort(),
    );
    expect(
      await keysOf(`
        update conversations set genesys_conversation_id = 'g-1' where id = '${KIM_GC}';
        update conversations set genesys_conversation_id = 'g-2', last_activity_at = now() where id = '${KIM_GC}';
        select set_config('switchboard.lookup_keys', '', true);
        update conversations set genesys_conversation_id = null where id = '${KIM_GC}';`),
    ).toEqual([conv(KIM_GC), cust(KIM), 'gc:g-2'].sort());
    expect(
      await keysOf(`
        update conversations set genesys_conversation_id = 'g-1' where id = '${KIM_GC}';
        select set_config('switchboard.lookup_keys', '', true);
        update conversations set genesys_conversation_id = 'g-2' where id = '${KIM_GC}';`),
    ).toEqual([conv(KIM_GC), cust(KIM), 'gc:g-1', 'gc:g-2'].sort());
  });

  it("a conversation moved to another customer records both customers and both WhatsApp ids; the statement's other rows their own", async () => {
    expect(
      await keysOf(`update conversations set customer_id = case when id = '${KIM_WA}' then '${ROY}'::uuid else customer_id end,
                            last_activity_at = now()
                     where id in ('${KIM_WA}', '${LEE_WA}')`),
    ).toEqual(
      [
        conv(KIM_WA),
        conv(LEE_WA),
        cust(KIM),
        cust(ROY),
        cust(LEE),
        'wa:15550001001',
        'wa:15550001003',
        'wa:15550001002',
      ].sort(),
    );
  });

  it('an insert and a delete record the rows they add or remove', async () => {
    expect(
      await keysOf(`insert into conversations (id, tenant_id, channel_id, customer_id, provider, status, genesys_conversation_id)
                    values ('7e4a0000-0000-4000-8000-0000000000b4', '${T}', '${GC_CHANNEL}', '${LEE}', 'genesys', 'open', 'g-9')`),
    ).toEqual([conv('7e4a0000-0000-4000-8000-0000000000b4'), cust(LEE), 'gc:g-9'].sort());
    expect(await keysOf(`delete from conversations where id = '${LEE_WA}'`)).toEqual(
      [conv(LEE_WA), cust(LEE), 'wa:15550001002'].sort(),
    );
  });
});
