import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  accountChanges,
  BSUID,
  BSUID_NEXT,
  callEvent,
  historyChunk,
  IDENTITY_SOURCES,
  messageEcho,
  PARENT_BSUID,
  signedWhatsApp,
  USERNAME,
  userChangedUserId,
  usernameOnlyText,
  WABA_ID,
  whatsappChange,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genesysAgentText, signedGenesys } from '../fixtures/genesys.ts';

/**
 * WhatsApp customers without a phone number, and their id changes, webhook to rows, events and
 * lookups. Fixture sources: shared/testing/src/whatsapp-identity-fixtures.ts (IDENTITY_SOURCES).
 */
let p: Pipeline;
type Json = Record<string, unknown>;
beforeAll(async () => {
  // The assignment-worker runs too: it must see the app's replies, and nothing of the history.
  p = await startPipeline({ assignment: true });
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

describe('the business side: outbound by user id, echoes, history, calls, account fields', () => {
  it('an agent reply to a username-only customer is requested for delivery by user id', async () => {
    const reply = genesysAgentText({ id: 'gen-uo-1', to: BSUID_NEXT, text: 'we can help' });
    expect((await p.postWebhooks('/webhooks/genesys', signedGenesys(reply))).status).toBe(200);
    await expect.poll(() => dataOf('message.outbound.requested').length, { timeout: 10_000 }).toBe(1);
    expect(dataOf('message.outbound.requested')[0]).toMatchObject({ to: BSUID_NEXT, toUserId: BSUID_NEXT });
  });

  it(`a message echo is an outbound message on the customer's conversation, message.sent from business_app (${IDENTITY_SOURCES.echoes})`, async () => {
    await post(whatsappChange('smb_message_echoes', messageEcho('wamid.echo-1', 'answered from the app', BSUID_NEXT)));
    await expect
      .poll(() => dataOf('message.sent').filter((d) => d.origin === 'business_app').length, { timeout: 10_000 })
      .toBe(1);
    const sent = dataOf('message.sent').find((d) => d.origin === 'business_app');
    const [customer] = await customersWith(BSUID_NEXT);
    const [live] = await rows<{ id: string }>(
      "select id from conversations where status <> 'closed' and customer_id = $1",
      [customer?.id],
    );
    expect(sent).toMatchObject({
      conversationId: live?.id,
      customerId: customer?.id,
      originMessageId: 'wamid.echo-1',
      text: 'answered from the app',
    });
    const [row] = await rows(
      "select direction, conversation_id from messages where provider_message_id = 'wamid.echo-1'",
    );
    expect(row).toEqual({ direction: 'outbound', conversation_id: live?.id });
  });

  it(`history is stored as the past: a closed conversation, no events, no activity moved (${IDENTITY_SOURCES.history})`, async () => {
    const eventsBefore = p.events.ofKey('message.received').length + p.events.ofKey('conversation.opened').length;
    const [liveBefore] = await rows<{ last_activity_at: Date }>(
      "select last_activity_at from conversations where status <> 'closed'",
    );
    await post(whatsappChange('history', historyChunk('16315551190')));
    await expect
      .poll(async () => (await rows("select id from messages where provider_message_id like 'wamid.hist-%'")).length, {
        timeout: 10_000,
      })
      .toBe(2);
    const stored = await rows<{ direction: string; status: string; customer_phone: string }>(
      `select m.direction, c.status, cu.phone_e164 as customer_phone from messages m
         join conversations c on c.id = m.conversation_id join customers cu on cu.id = c.customer_id
        where m.provider_message_id like 'wamid.hist-%' order by m.provider_sent_at`,
    );
    expect(stored).toEqual([
      { direction: 'inbound', status: 'closed', customer_phone: '+16315551190' },
      { direction: 'outbound', status: 'closed', customer_phone: '+16315551190' },
    ]);
    // Nothing live came of it: no message.received, no conversation.opened for the assignment-worker.
    expect(p.events.ofKey('message.received').length + p.events.ofKey('conversation.opened').length).toBe(eventsBefore);
    const [liveAfter] = await rows<{ last_activity_at: Date }>(
      "select last_activity_at from conversations where status <> 'closed'",
    );
    expect(liveAfter).toEqual(liveBefore);
  });

  it(`a call is stored on the conversation and moves forward: connect, terminate, a late connect ignored (${IDENTITY_SOURCES.calls})`, async () => {
    await post(whatsappChange('calls', callEvent('connect', BSUID_NEXT)));
    await post(whatsappChange('calls', callEvent('terminate', BSUID_NEXT)));
    await expect.poll(() => dataOf('conversation.call.recorded').length, { timeout: 10_000 }).toBe(2);
    const [customer] = await customersWith(BSUID_NEXT);
    const calls = await rows(
      `select k.event, k.status, k.duration_seconds, c.customer_id from conversation_calls k join conversations c on c.id = k.conversation_id`,
    );
    expect(calls).toEqual([
      { event: 'terminate', status: 'COMPLETED', duration_seconds: 33, customer_id: customer?.id },
    ]);
    const late = callEvent('connect', BSUID_NEXT);
    (late.calls[0] as { timestamp: string }).timestamp = '1780000400';
    await post(whatsappChange('calls', late));
    await post(whatsappText({ from: '16315550001', id: 'wamid.marker-2', text: 'marker' }));
    await expect
      .poll(() => dataOf('message.received').some((d) => d.providerMessageId === 'wamid.marker-2'), { timeout: 10_000 })
      .toBe(true);
    expect(dataOf('conversation.call.recorded')).toHaveLength(2);
    expect((await rows('select event from conversation_calls'))[0]).toEqual({ event: 'terminate' });
  });

  it(`account fields are published as whatsapp.account.changed of the WABA's tenant, and counted (${IDENTITY_SOURCES.account})`, async () => {
    for (const [field, value] of Object.entries(accountChanges)) {
      await post(whatsappChange(field, value, { metadata: false }));
    }
    const n = Object.keys(accountChanges).length;
    await expect.poll(() => dataOf('whatsapp.account.changed').length, { timeout: 10_000 }).toBe(n);
    const changed = p.events.ofKey('whatsapp.account.changed');
    const [channel] = await rows<{ id: string }>("select id from channels where provider = 'whatsapp'");
    expect(changed.every((e) => e.event.tenantid === p.tenant.tenantId && e.event.subject === channel?.id)).toBe(true);
    expect(dataOf('whatsapp.account.changed').every((d) => d.businessAccountId === WABA_ID)).toBe(true);
    expect(
      dataOf('whatsapp.account.changed')
        .map((d) => d.field)
        .sort(),
    ).toEqual(Object.keys(accountChanges).sort());
    const counted = (await p.worker?.metrics.accountChanges.get())?.values.reduce((s, v) => s + v.value, 0);
    expect(counted).toBe(n);
  });

  it('a message naming phone and user id links a phone customer and a username-only one: merged into the older one', async () => {
    const phone = '16315559876';
    await post(whatsappText({ from: phone, id: 'wamid.ph-1', text: 'by phone' }));
    // Another person: their own parent id and username (a parent id, like a user id, names one person).
    const dora = { parent: 'US.ENT.555', username: '@dora' };
    await post(whatsappChange('messages', usernameOnlyText('wamid.uid-1', 'by user id', 'US.555', '1780000000', dora)));
    await expect
      .poll(
        async () =>
          (await rows("select id from messages where provider_message_id in ('wamid.ph-1','wamid.uid-1')")).length,
        { timeout: 10_000 },
      )
      .toBe(2);
    // The survivor is the older of the two (created first; in one transaction, the smaller id).
    const [older] = await rows<{ id: string }>(
      `select id from customers where phone_e164 = $1 or whatsapp_user_id = 'US.555' order by created_at, id limit 1`,
      [`+${phone}`],
    );
    const both = usernameOnlyText('wamid.both-1', 'now with both', 'US.555', '1780000000', dora);
    (both.messages[0] as Record<string, unknown>).from = phone;
    (both.contacts[0] as Record<string, unknown>).wa_id = phone;
    await post(whatsappChange('messages', both));
    await expect
      .poll(async () => (await rows("select id from messages where provider_message_id = 'wamid.both-1'")).length, {
        timeout: 10_000,
      })
      .toBe(1);
    expect((await customersWith('US.555'))[0]?.id).toBe(older?.id);
    const live = await rows<{ id: string }>(
      "select id from conversations where status <> 'closed' and customer_id = $1",
      [older?.id],
    );
    expect(live).toHaveLength(1);
    const messages = await rows<{ conversation_id: string }>(
      "select distinct conversation_id from messages where provider_message_id in ('wamid.ph-1','wamid.uid-1','wamid.both-1')",
    );
    expect(messages).toEqual([{ conversation_id: live[0]?.id }]);
    // Events leave through the outbox relay, a moment after the commit.
    await expect
      .poll(() => dataOf('customer.identity.changed').some((d) => d.mergedCustomerIds), { timeout: 10_000 })
      .toBe(true);
    const merge = dataOf('customer.identity.changed').find((d) => d.mergedCustomerIds);
    expect(merge).toMatchObject({ customerId: older?.id });
    const closed = (merge?.closedConversationIds ?? []) as string[];
    expect(closed).toHaveLength(1);
    // The closed one closed through the status rule: its conversation.status.changed went out.
    await expect
      .poll(() => dataOf('conversation.status.changed').some((d) => d.conversationId === closed[0]), {
        timeout: 10_000,
      })
      .toBe(true);
  });
});
