import { createEvent, genesysRoutingKeys, inboundType } from '@switchboard/contracts';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  agentDeskEvent,
  deliveredEventData,
  mailgunEventBody,
  publishInbound,
  signedAgentDesk,
  signedWhatsApp,
  whatsappText,
} from '@switchboard/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEV_GENESYS_INTEGRATION,
  genesysAgentAttachment,
  genesysAgentText,
  genesysReceipt,
  genesysTyping,
  signedGenesys,
} from '../fixtures/genesys.ts';

let p: Pipeline;
beforeEach(async () => {
  p = await startPipeline();
});
afterEach(async () => {
  await p.stop();
});

const CUSTOMER = '16315551181';
type Data = Record<string, unknown>;
const dataOf = (key: string) => p.events.ofKey(key).map((r) => r.event.data as Data);

/** A customer's WhatsApp message opens the conversation a Genesys agent answers. */
async function customerWrites(id = 'wamid.g-1') {
  const res = await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappText({ from: CUSTOMER, id, text: 'help' })));
  expect(res.status).toBe(200);
  await expect.poll(() => dataOf('message.received').length, { timeout: 10_000 }).toBeGreaterThan(0);
  return dataOf('message.received')[0]?.conversationId as string;
}

const genesys = async (payload: unknown) => {
  const res = await p.postWebhooks('/webhooks/genesys', signedGenesys(payload));
  return { status: res.status, body: (await res.json()) as Data };
};

const row = async (providerMessageId: string) =>
  (
    await p.pool.query(
      `select direction, provider, type, body, content, delivery_status, sent_at, delivered_at, read_at, failed_at, errors, conversation_id
         from messages where provider_message_id = $1`,
      [providerMessageId],
    )
  ).rows[0];

describe('Genesys Open Messaging → the WhatsApp conversation', () => {
  it('records an agent reply as outbound and asks the sender to deliver it to the customer on WhatsApp', async () => {
    const conversationId = await customerWrites();
    const r = await genesys(
      genesysAgentText({ id: 'gm-1', to: CUSTOMER, text: 'Hi, how can I help?', conversationId: 'gc-1' }),
    );
    expect(r).toMatchObject({ status: 200, body: { status: 'accepted' } });

    await expect.poll(() => dataOf('message.outbound.requested').length, { timeout: 10_000 }).toBe(1);
    const [sent] = dataOf('message.sent');
    const [requested] = dataOf('message.outbound.requested');
    expect(sent).toMatchObject({
      conversationId,
      provider: 'whatsapp',
      origin: 'genesys',
      originMessageId: 'gm-1',
      author: { kind: 'agent', id: 'agent-0001' },
      genesysConversationId: 'gc-1',
      type: 'text',
      text: 'Hi, how can I help?',
    });
    expect(requested).toMatchObject({
      messageId: sent?.messageId,
      conversationId,
      provider: 'whatsapp',
      to: CUSTOMER,
      type: 'text',
      text: 'Hi, how can I help?',
    });
    expect(await row('gm-1')).toMatchObject({
      direction: 'outbound',
      provider: 'genesys',
      conversation_id: conversationId,
    });
    const conv = (
      await p.pool.query('select genesys_conversation_id, agent_id from conversations where id = $1', [conversationId])
    ).rows[0];
    expect(conv).toEqual({ genesys_conversation_id: 'gc-1', agent_id: 'agent-0001' });

    // The mapping is known now: the customer's next message carries the Genesys conversation id.
    await p.post(
      '/webhooks/whatsapp',
      signedWhatsApp(whatsappText({ from: CUSTOMER, id: 'wamid.g-2', text: 'thanks' })),
    );
    await expect.poll(() => dataOf('message.received').length, { timeout: 10_000 }).toBe(2);
    expect(dataOf('message.received')[1]).toMatchObject({ conversationId, genesysConversationId: 'gc-1' });

    // A re-sent webhook is stored and announced once.
    await genesys(genesysAgentText({ id: 'gm-1', to: CUSTOMER, text: 'Hi, how can I help?', conversationId: 'gc-1' }));
    const attachment = await genesys(genesysAgentAttachment({ id: 'gm-2', to: CUSTOMER, conversationId: 'gc-1' }));
    expect(attachment.status).toBe(200);
    await expect.poll(() => dataOf('message.outbound.requested').length, { timeout: 10_000 }).toBe(2);
    expect(dataOf('message.outbound.requested')[1]).toMatchObject({
      to: CUSTOMER,
      type: 'attachment',
      content: { attachments: [{ mime: 'application/pdf', filename: 'invoice.pdf', mediaType: 'File' }] },
    });
    expect(Number((await p.pool.query(`select count(*) n from messages where direction = 'outbound'`)).rows[0].n)).toBe(
      2,
    );
  });

  it('moves the outbound message forward on Genesys receipts, never back, and holds a receipt that arrives first', async () => {
    await customerWrites();
    // The Delivered receipt overtakes the message itself: held, then applied when the message lands.
    expect((await genesys(genesysReceipt({ id: 'gm-r', to: CUSTOMER, status: 'Delivered' }))).status).toBe(200);
    await genesys(genesysAgentText({ id: 'gm-r', to: CUSTOMER, text: 'on its way', conversationId: 'gc-r' }));
    await expect.poll(async () => (await row('gm-r'))?.delivery_status, { timeout: 10_000 }).toBe('delivered');

    // Published (= sent) after Delivered and a duplicate Delivered change nothing.
    await genesys(genesysReceipt({ id: 'gm-r', to: CUSTOMER, status: 'Published', at: new Date(Date.now() + 1000) }));
    await genesys(genesysReceipt({ id: 'gm-r', to: CUSTOMER, status: 'Delivered' }));
    await genesys(genesysReceipt({ id: 'gm-r', to: CUSTOMER, status: 'Read', at: new Date(Date.now() + 2000) }));
    await expect.poll(async () => (await row('gm-r'))?.delivery_status, { timeout: 10_000 }).toBe('read');
    // The row commits before the relay publishes: wait for the events, then none may be extra.
    await expect
      .poll(() => dataOf('message.status.changed').map((d) => d.status), { timeout: 10_000 })
      .toEqual(['delivered', 'read']);

    // A failed receipt keeps its reasons.
    await genesys(genesysAgentText({ id: 'gm-f', to: CUSTOMER, text: 'lost', conversationId: 'gc-r' }));
    await genesys(
      genesysReceipt({
        id: 'gm-f',
        to: CUSTOMER,
        status: 'Failed',
        reasons: [{ code: 'RateLimited', message: 'Rate limit exceeded' }],
      }),
    );
    await expect.poll(async () => (await row('gm-f'))?.delivery_status, { timeout: 10_000 }).toBe('failed');
    expect((await row('gm-f'))?.errors).toEqual([{ code: 'RateLimited', message: 'Rate limit exceeded' }]);
  });

  it('keeps every distinct error of a repeated failure report, held or applied, without a second event', async () => {
    await customerWrites();
    const rate = { code: 'RateLimited', message: 'Rate limit exceeded' };
    const optedOut = { code: 'RecipientOptedOut', message: 'The recipient opted out' };
    const failed = (messageId: string, errors: Data[], at: Date) =>
      createEvent({
        source: '/test/genesys',
        type: inboundType(genesysRoutingKeys.receipt),
        data: {
          provider: 'genesys',
          accountId: DEV_GENESYS_INTEGRATION,
          messageId,
          status: 'failed',
          genesysStatus: 'Failed',
          errors,
          at: at.toISOString(),
          raw: {},
        },
      });
    const report = (e: ReturnType<typeof failed>) => publishInbound(p.names.inbound, genesysRoutingKeys.receipt, e);
    const applied = async () => Number((await p.pool.query('select count(*) n from inbox')).rows[0].n);

    // Applied: a second report of the failure (an event of its own) adds its new errors only.
    await genesys(genesysAgentText({ id: 'gm-f2', to: CUSTOMER, text: 'lost', conversationId: 'gc-f' }));
    await expect.poll(async () => (await row('gm-f2'))?.direction, { timeout: 10_000 }).toBe('outbound');
    await report(failed('gm-f2', [rate], new Date()));
    await expect.poll(async () => (await row('gm-f2'))?.delivery_status, { timeout: 10_000 }).toBe('failed');
    await report(failed('gm-f2', [rate, optedOut], new Date(Date.now() + 1000)));
    await expect.poll(async () => (await row('gm-f2'))?.errors, { timeout: 10_000 }).toEqual([rate, optedOut]);

    // Held: two reports for a message not stored yet keep both errors until it lands.
    const before = await applied();
    await report(failed('gm-f3', [rate], new Date()));
    await report(failed('gm-f3', [optedOut, rate], new Date(Date.now() + 1000)));
    await expect.poll(applied, { timeout: 10_000 }).toBe(before + 2);
    await genesys(genesysAgentText({ id: 'gm-f3', to: CUSTOMER, text: 'late', conversationId: 'gc-f' }));
    await expect.poll(async () => (await row('gm-f3'))?.delivery_status, { timeout: 10_000 }).toBe('failed');
    expect((await row('gm-f3'))?.errors).toEqual([rate, optedOut]);

    // Events are written in the transaction that changes the row: the outbox holds every one there is.
    const events = await p.pool.query(
      `select envelope->'data'->>'providerMessageId' as message from outbox
        where routing_key = 'message.status.changed' order by message`,
    );
    expect(events.rows).toEqual([{ message: 'gm-f2' }, { message: 'gm-f3' }]);
  });

  it('announces a transfer when another agent answers, and never moves back for a late message', async () => {
    const conversationId = await customerWrites();
    const t0 = Date.now();
    const say = (id: string, agent: string, ms: number) =>
      genesys(
        genesysAgentText({
          id,
          to: CUSTOMER,
          text: id,
          conversationId: 'gc-t',
          agent: { id: agent },
          at: new Date(t0 + ms),
        }),
      );
    await say('gm-t1', 'agent-a', 1000);
    await expect.poll(() => dataOf('message.sent').length, { timeout: 10_000 }).toBe(1);
    await say('gm-t2', 'agent-a', 2000);
    await expect.poll(() => dataOf('message.sent').length, { timeout: 10_000 }).toBe(2);
    await say('gm-t3', 'agent-b', 3000);
    await expect.poll(() => dataOf('message.sent').length, { timeout: 10_000 }).toBe(3);
    // agent-a's message written before the transfer arrives late: stored, but no transfer back.
    await say('gm-t0', 'agent-a', 1500);
    await expect.poll(() => dataOf('message.sent').length, { timeout: 10_000 }).toBe(4);
    expect(dataOf('conversation.transferred')).toEqual([
      expect.objectContaining({ conversationId, previousAgentId: null, agentId: 'agent-a', origin: 'genesys' }),
      expect.objectContaining({ conversationId, previousAgentId: 'agent-a', agentId: 'agent-b', origin: 'genesys' }),
    ]);
    const conv = await p.pool.query('select agent_id from conversations where id = $1', [conversationId]);
    expect(conv.rows[0]?.agent_id).toBe('agent-b');
  });

  it('answers typing with 200 and publishes nothing; parks what it cannot understand; refuses a bad signature', async () => {
    expect(await genesys(genesysTyping({ id: 'gt-1', to: CUSTOMER }))).toMatchObject({
      status: 200,
      body: { status: 'ignored' },
    });
    expect(
      await genesys({
        id: 'x',
        channel: { id: 'dev-genesys-integration', time: new Date().toISOString() },
        type: 'Mystery',
      }),
    ).toMatchObject({
      status: 200,
      body: { status: 'parked' },
    });
    const req = signedGenesys(genesysAgentText({ id: 'gm-bad', to: CUSTOMER, text: 'x' }), 'wrong-secret');
    expect((await p.postWebhooks('/webhooks/genesys', req)).status).toBe(401);
    expect(Number((await p.pool.query('select count(*) n from messages')).rows[0].n)).toBe(0);
  });
});

describe('agent-desk operator replies', () => {
  it('records the reply as outbound and requests delivery to the WhatsApp customer', async () => {
    const conversationId = await customerWrites();
    const reply = agentDeskEvent('operator.replied', {
      conversationId,
      operatorId: 'op-7',
      messageId: 'desk-m-1',
      text: 'Hello from the desk',
    });
    expect((await p.postWebhooks('/webhooks/agent-desk', signedAgentDesk(reply))).status).toBe(200);
    await expect.poll(() => dataOf('message.outbound.requested').length, { timeout: 10_000 }).toBe(1);
    expect(dataOf('message.sent')[0]).toMatchObject({
      conversationId,
      origin: 'agent_desk',
      author: { kind: 'operator', id: 'op-7' },
    });
    expect(dataOf('message.outbound.requested')[0]).toMatchObject({
      conversationId,
      to: CUSTOMER,
      provider: 'whatsapp',
      text: 'Hello from the desk',
    });
    expect(await row('desk-m-1')).toMatchObject({
      direction: 'outbound',
      provider: 'agent_desk',
      body: 'Hello from the desk',
    });
  });

  it('answers an email conversation by email: to the lead, a Message-ID at our domain, threading headers', async () => {
    const lead = 'lead.reply@customer.test';
    const campaign = 'campaign-reply@mg.example.com';
    const delivered = {
      ...deliveredEventData(),
      id: `evt-delivered-${Date.now()}`,
      timestamp: Date.now() / 1000,
      recipient: lead,
      envelope: { sender: 'sales@mg.example.com', transport: 'smtp', targets: lead },
      message: { headers: { to: lead, 'message-id': campaign, from: 'sales@mg.example.com', subject: 'Your offer' } },
    };
    expect((await p.post('/webhooks/mailgun/events', mailgunEventBody(delivered))).status).toBe(200);
    await expect.poll(() => dataOf('conversation.opened').length, { timeout: 10_000 }).toBe(1);
    const conversationId = dataOf('conversation.opened')[0]?.conversationId as string;

    const reply = agentDeskEvent('operator.replied', {
      conversationId,
      operatorId: 'op-9',
      messageId: 'desk-mail-1',
      text: 'Happy to help',
    });
    expect((await p.postWebhooks('/webhooks/agent-desk', signedAgentDesk(reply))).status).toBe(200);
    await expect.poll(() => dataOf('message.outbound.requested').length, { timeout: 10_000 }).toBe(1);
    const requested = dataOf('message.outbound.requested')[0];
    expect(requested).toMatchObject({
      conversationId,
      provider: 'mailgun',
      to: lead,
      email: { subject: 'Re: Your offer', inReplyTo: campaign, references: [campaign] },
    });
    const header = (requested?.email as { messageIdHeader: string } | undefined)?.messageIdHeader;
    expect(header).toBe(`${requested?.messageId}@mg.example.com`);
    // Stored under its Message-ID, so Mailgun's events for it and the lead's answer find it.
    const stored = await p.pool.query(
      `select m.direction, m.provider, em.parent_id is not null as threaded
         from messages m join email_messages em on em.message_id = m.id
        where m.provider_message_id = $1`,
      [header],
    );
    expect(stored.rows).toEqual([{ direction: 'outbound', provider: 'mailgun', threaded: true }]);
  });
});
