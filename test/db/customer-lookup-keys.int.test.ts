import { createTestDatabase, type TestDatabase } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asOwner, lookupKeysOf } from '../fixtures/lookup-keys.ts';

/**
 * The lookup keys the customers' statement triggers record (migrations 0013, 0014 and
 * 0025_customer_lookup_keys_inline): a customer's profile, what finds it (phone, WhatsApp id, user
 * id, username, name search), each of its conversations with its Genesys id, and each WhatsApp
 * user id it holds; for an update, those of the row before and after. Each case runs as the
 * services do (switchboard_app, under its tenant) and is rolled back.
 */
let database: TestDatabase;
const T = '7e4b0000-0000-4000-8000-000000000001';
const WA_CHANNEL = '7e4b0000-0000-4000-8000-0000000000c1';
const MAIL_CHANNEL = '7e4b0000-0000-4000-8000-0000000000c2';
const KIM = '7e4b0000-0000-4000-8000-0000000000a1';
const LEE = '7e4b0000-0000-4000-8000-0000000000a2';
const KIM_OPEN = '7e4b0000-0000-4000-8000-0000000000b1';
const KIM_CLOSED = '7e4b0000-0000-4000-8000-0000000000b2';
const LEE_MAIL = '7e4b0000-0000-4000-8000-0000000000b3';

beforeAll(async () => {
  database = await createTestDatabase();
  await asOwner(
    database,
    `
      insert into tenants (id, slug, name) values ('${T}', 'customer-lookup-keys', 'Customer lookup keys');
      insert into channels (id, tenant_id, provider, account_id)
        values ('${WA_CHANNEL}', '${T}', 'whatsapp', 'clk-wa'), ('${MAIL_CHANNEL}', '${T}', 'mailgun', 'clk.test');
      insert into customers (id, tenant_id, phone_e164, whatsapp_id, whatsapp_user_id, whatsapp_username, name)
        values ('${KIM}', '${T}', '+15550002001', '15550002001', 'US.kim', 'kim', 'Kim');
      insert into customers (id, tenant_id, email) values ('${LEE}', '${T}', 'lee@example.com');
      insert into customer_whatsapp_user_ids (tenant_id, user_id, customer_id) values ('${T}', 'US.kim-old', '${KIM}');
      insert into conversations (id, tenant_id, channel_id, customer_id, provider, status, genesys_conversation_id)
        values ('${KIM_OPEN}', '${T}', '${WA_CHANNEL}', '${KIM}', 'whatsapp', 'open', 'g-kim'),
               ('${KIM_CLOSED}', '${T}', '${WA_CHANNEL}', '${KIM}', 'whatsapp', 'closed', null),
               ('${LEE_MAIL}', '${T}', '${MAIL_CHANNEL}', '${LEE}', 'mailgun', 'open', null);`,
  );
});
afterAll(async () => {
  await database.drop();
});

/** The keys `statements` record, sorted, without the tenant prefix; rolled back after. */
const keysOf = (...statements: string[]) => lookupKeysOf(database, T, ...statements);

const kimKeys = [
  `cust:${KIM}`,
  'names',
  'phone:+15550002001',
  'wa:15550002001',
  'uid:US.kim',
  'uname:kim',
  `conv:${KIM_OPEN}`,
  'gc:g-kim',
  `conv:${KIM_CLOSED}`,
  'uid:US.kim-old',
];

describe('customer lookup keys', () => {
  it('an update records every key of the row, its conversations and user ids', async () => {
    expect(await keysOf(`update customers set name = 'Kimberly' where id = '${KIM}'`)).toEqual([...kimKeys].sort());
  });

  it('an update that moves what finds the customer records the old and the new', async () => {
    expect(
      await keysOf(`update customers set phone_e164 = '+15550002999', whatsapp_id = null, whatsapp_username = 'kimmy'
                     where id = '${KIM}'`),
    ).toEqual([...kimKeys, 'phone:+15550002999', 'uname:kimmy'].sort());
  });

  it('an insert records the new customer, name search and what finds it', async () => {
    const keys = await keysOf(
      `insert into customers (id, tenant_id, phone_e164) values ('7e4b0000-0000-4000-8000-0000000000a9', '${T}', '+15550002009')`,
    );
    expect(keys).toEqual(['cust:7e4b0000-0000-4000-8000-0000000000a9', 'names', 'phone:+15550002009']);
  });

  it('a statement over several customers records each, once', async () => {
    expect(await keysOf(`update customers set metadata = '{"x":1}' where tenant_id = '${T}'`)).toEqual(
      [...kimKeys, `cust:${LEE}`, `conv:${LEE_MAIL}`].sort(),
    );
  });

  it('a delete records the customer it removes and its conversations', async () => {
    expect(
      await keysOf(
        `delete from conversations where customer_id = '${LEE}'`,
        `delete from customers where id = '${LEE}'`,
      ),
    ).toEqual([`cust:${LEE}`, 'names', `conv:${LEE_MAIL}`].sort());
  });

  it('an update that changes no row records nothing', async () => {
    expect(await keysOf(`update customers set name = 'x' where id = '7e4b0000-0000-4000-8000-00000000ffff'`)).toEqual(
      [],
    );
  });
});
