import {
  BSUID,
  BSUID_NEXT,
  IDENTITY_SOURCES,
  PARENT_BSUID,
  type Pipeline,
  signedWhatsApp,
  startPipeline,
  USERNAME,
  userChangedUserId,
  usernameOnlyText,
  whatsappChange,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * WhatsApp customers without a phone number, and their id changes, webhook to rows, events and
 * lookups. Fixture sources: shared/testing/src/whatsapp-identity-fixtures.ts (IDENTITY_SOURCES).
 */
let p: Pipeline;
type Json = Record<string, unknown>;
beforeAll(async () => {
  p = await startPipeline();
}, 30_000);
afterAll(async () => {
  await p.stop();
});

const post = async (body: unknown) =>
  expect((await p.post('/webhooks/whatsapp', signedWhatsApp(body))).status).toBe(200);
const dataOf = (key: string) => p.events.ofKey(key).map((r) => r.event.data as Json);
const rows = async <T extends Json>(q: string, params: unknown[] = []) => (await p.pool.query<T>(q, params)).rows;
const customersWith = (userId: string) =>
  rows<{ id: string; whatsapp_user_id: string | null; phone_e164: string | null; whatsapp_username: string | null }>(
    `select c.id, c.whatsapp_user_id, c.phone_e164, c.whatsapp_username from customers c
      where c.merged_into is null and c.id in (select customer_id from customer_whatsapp_user_ids where user_id = $1)`,
    [userId],
  );

describe(`a username-only customer (${IDENTITY_SOURCES.bsuid})`, () => {
  it('is stored with user id, parent id and username, and their message on their conversation', async () => {
    await post(whatsappChange('messages', usernameOnlyText('wamid.uo-1', 'hello, no number here')));
    await expect.poll(() => dataOf('message.received').length, { timeout: 10_000 }).toBe(1);
    const [customer] = await rows(
      'select id, phone_e164, whatsapp_user_id, whatsapp_parent_user_id, whatsapp_username, name from customers',
    );
    expect(customer).toMatchObject({
      phone_e164: null,
      whatsapp_user_id: BSUID,
      whatsapp_parent_user_id: PARENT_BSUID,
      whatsapp_username: USERNAME,
      name: 'Kerry Fisher',
    });
    const received = dataOf('message.received')[0];
    expect(received).toMatchObject({ from: BSUID, userId: BSUID, username: USERNAME, customerId: customer?.id });
    expect(received?.phone).toBeUndefined();
    const [message] = await rows<{ conversation_id: string; body: string }>(
      "select conversation_id, body from messages where provider_message_id = 'wamid.uo-1'",
    );
    expect(message?.body).toBe('hello, no number here');
    expect(received?.conversationId).toBe(message?.conversation_id);
  });

  it('the lookup API finds them by user id and by username (and misses an unknown one)', async () => {
    const [customer] = await customersWith(BSUID);
    for (const q of [`userId=${encodeURIComponent(BSUID)}`, `username=${encodeURIComponent(USERNAME)}`]) {
      const res = await p.api(`/customers?${q}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { customers: Json[] };
      expect(body.customers).toHaveLength(1);
      expect(body.customers[0]).toMatchObject({ id: customer?.id, whatsappUserId: BSUID, whatsappUsername: USERNAME });
    }
    const missing = (await (await p.api('/customers?userId=US.0000')).json()) as { customers: Json[] };
    expect(missing.customers).toEqual([]);
    const bad = await p.api('/customers?userId=');
    expect(bad.status).toBe(400);
  });
});

describe(`user_changed_user_id (${IDENTITY_SOURCES.system})`, () => {
  it('batched with a message under the new id: one customer, one conversation, one identity event', async () => {
    const value = usernameOnlyText('wamid.uo-2', 'my id changed', BSUID_NEXT, '1780000200');
    await post(
      whatsappChange('messages', { ...value, messages: [userChangedUserId('wamid.sys-1'), ...value.messages] }),
    );
    await expect.poll(() => dataOf('customer.identity.changed').length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => dataOf('message.received').length, { timeout: 10_000 }).toBe(2);
    const customers = await customersWith(BSUID_NEXT);
    expect(customers).toHaveLength(1);
    expect(customers[0]?.whatsapp_user_id).toBe(BSUID_NEXT);
    expect(await customersWith(BSUID)).toEqual(customers);
    const live = await rows("select id from conversations where status <> 'closed'");
    expect(live).toHaveLength(1);
    expect(dataOf('customer.identity.changed')[0]).toMatchObject({
      customerId: customers[0]?.id,
      previousUserId: BSUID,
      userId: BSUID_NEXT,
    });
    // The notice is not a customer's message: nothing stored for it.
    expect(await rows("select id from messages where provider_message_id = 'wamid.sys-1'")).toEqual([]);
  });

  it('redelivered, the notice publishes nothing more', async () => {
    await post(whatsappChange('messages', { messages: [userChangedUserId('wamid.sys-1')] }));
    await post(whatsappText({ from: '16315550001', id: 'wamid.marker-1', text: 'marker' }));
    await expect.poll(() => dataOf('message.received').length, { timeout: 10_000 }).toBe(3);
    expect(dataOf('customer.identity.changed')).toHaveLength(1);
  });
});
