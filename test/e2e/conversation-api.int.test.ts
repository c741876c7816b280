import { issueApiToken, seedTenant } from '@switchboard/db';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  agentDeskEvent,
  DEV_PHONE_NUMBER_ID,
  helpdeskEvent,
  signedAgentDesk,
  signedHelpdesk,
  signedWhatsApp,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The conversation API (issue 18) through the real webhooks: three customers of the dev tenant
 * and one of another tenant write on WhatsApp; an operator answers one (agent desk), a helpdesk
 * ticket names another, the desk assigns the first. Then the list, its filters, search and
 * pagination, a conversation's status and context, and one message.
 */
const ACME_PHONE_NUMBER_ID = '200000000000002';
type Json = Record<string, unknown>;
type Page = { conversations: Array<Json & { id: string; customer: Json }>; nextCursor: string | null };

let p: Pipeline;
let acmeToken: string;
const conv: Record<'ana' | 'ben' | 'chloe' | 'acme', string> = { ana: '', ben: '', chloe: '', acme: '' };

const get = async <T = Json>(path: string, token?: string) => {
  const res = await p.api(path, token ? { token } : {});
  return { status: res.status, body: (await res.json()) as T };
};
/**
 * Each webhook a second after the previous one (WhatsApp's timestamps have whole seconds): the
 * fixture's fixed default gave every conversation the same activity time, so the list's order fell
 * to the tie-break on their random ids.
 */
let sentAt = Math.floor(Date.now() / 1000) - 600;
const whatsapp = (from: string, name: string, id: string, text: string, phoneNumberId = DEV_PHONE_NUMBER_ID) =>
  p.post(
    '/webhooks/whatsapp',
    signedWhatsApp(
      JSON.parse(
        JSON.stringify(whatsappText({ from, id, text, name, timestamp: ++sentAt })).replace(
          DEV_PHONE_NUMBER_ID,
          phoneNumberId,
        ),
      ),
    ),
  );
const count = (key: string) => p.events.ofKey(key).length;
async function until(ok: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
const subjectOf = (from: string, tenant: string) =>
  p.events
    .ofKey('message.received')
    .find((r) => r.event.tenantid === tenant && (r.event.data as Json).from === `+${from}`)?.event.subject as string;

beforeAll(async () => {
  p = await startPipeline();
  const acme = await seedTenant(p.db, {
    slug: 'acme',
    name: 'Acme',
    channels: [{ provider: 'whatsapp', accountId: ACME_PHONE_NUMBER_ID }],
  });
  acmeToken = (await issueApiToken(p.db, acme.tenantId, 'acme')).token;
  // One after the other, so their activity order is known: ana, ben, chloe (newest), then acme.
  const senders = [
    ['15550000001', 'Ana Silva', 'ana'],
    ['15550000002', 'Ben Okafor', 'ben'],
    ['15550000003', 'Chloe Novak', 'chloe'],
  ] as const;
  for (const [i, [from, name]] of senders.entries()) {
    expect((await whatsapp(from, name, `wamid.api18-${i}`, `hello from ${name}`)).status).toBe(200);
    await until(() => count('message.received') === i + 1);
  }
  await whatsapp('15550000001', 'Ana at Acme', 'wamid.api18-acme', 'hi acme', ACME_PHONE_NUMBER_ID);
  await until(() => count('message.received') === 4);
  for (const [from, , key] of senders) conv[key] = subjectOf(from, p.tenant.tenantId);
  conv.acme = subjectOf('15550000001', acme.tenantId);

  const desk = (type: string, data: Json) =>
    p.postWebhooks('/webhooks/agent-desk', signedAgentDesk(agentDeskEvent(type, data)));
  expect(
    (
      await desk('operator.replied', {
        conversationId: conv.ana,
        operatorId: 'op-ana',
        messageId: 'op-m-1',
        text: 'hi Ana',
      })
    ).status,
  ).toBe(200);
  await until(() => count('message.sent') === 1);
  expect((await desk('conversation.assign_requested', { conversationId: conv.ana, operatorId: 'op-ana' })).status).toBe(
    200,
  );
  const ticket = helpdeskEvent('ticket.created', {
    ticketId: 'HD-18',
    conversationId: conv.ben,
    subject: 'Refund for order 77',
  });
  expect((await p.postWebhooks('/webhooks/helpdesk', signedHelpdesk(ticket))).status).toBe(200);
  await until(() => count('ticket.status.changed') === 1 && count('conversation.status.changed') >= 1);
  // Ana writes again after the reply: her second turn waits.
  await whatsapp('15550000001', 'Ana Silva', 'wamid.api18-ana-2', 'thanks, one more thing');
  await until(() => count('message.received') === 5);
});
afterAll(async () => {
  await p.stop();
});

const ids = (page: Page) => page.conversations.map((c) => c.id);

describe('GET /conversations', () => {
  it("lists the tenant's conversations, latest activity first, never another tenant's", async () => {
    const dev = await get<Page>('/conversations');
    expect(dev.status).toBe(200);
    expect(ids(dev.body)).toEqual([conv.ana, conv.chloe, conv.ben]);
    expect(dev.body.nextCursor).toBeNull();
    const acme = await get<Page>('/conversations', acmeToken);
    expect(ids(acme.body)).toEqual([conv.acme]);
  });

  it('filters by status, agent, channel and activity time', async () => {
    expect(ids((await get<Page>('/conversations?status=active')).body)).toEqual([conv.ana]);
    expect(ids((await get<Page>('/conversations?status=open')).body)).toEqual([conv.chloe, conv.ben]);
    expect(ids((await get<Page>('/conversations?agent=op-ana')).body)).toEqual([conv.ana]);
    expect(ids((await get<Page>('/conversations?channel=whatsapp')).body)).toHaveLength(3);
    expect(ids((await get<Page>('/conversations?channel=mailgun')).body)).toEqual([]);
    const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
    expect(ids((await get<Page>(`/conversations?updatedSince=${future}`)).body)).toEqual([]);
  });

  it('searches customer name, phone and email and ticket subjects, tenant-wide', async () => {
    expect(ids((await get<Page>('/conversations?q=okafor')).body)).toEqual([conv.ben]);
    expect(ids((await get<Page>('/conversations?q=0000003')).body)).toEqual([conv.chloe]);
    expect(ids((await get<Page>('/conversations?q=REFUND%20for')).body)).toEqual([conv.ben]);
    expect(ids((await get<Page>('/conversations?q=100%25')).body)).toEqual([]);
    // Acme's Ana shares the number, not the tenant.
    expect(ids((await get<Page>('/conversations?q=at%20acme')).body)).toEqual([]);
  });

  it('pages with an opaque cursor and refuses bad input with 400', async () => {
    const first = await get<Page>('/conversations?limit=2');
    expect(ids(first.body)).toEqual([conv.ana, conv.chloe]);
    const second = await get<Page>(`/conversations?limit=2&cursor=${first.body.nextCursor}`);
    expect(ids(second.body)).toEqual([conv.ben]);
    expect(second.body.nextCursor).toBeNull();
    for (const bad of ['cursor=bm9wZQ', 'q=ab', 'status=waiting', 'channel=fax', 'limit=0', 'updatedSince=yesterday'])
      expect((await get(`/conversations?${bad}`)).status).toBe(400);
  });
});

describe('a conversation', () => {
  it('status: state, times, counts and response times from its messages', async () => {
    const history = await get<{ messages: Array<{ id: string; direction: string; receivedAt: string }> }>(
      `/conversations/${conv.ana}/messages`,
    );
    const [again, reply, first] = history.body.messages; // newest first
    const { status, body } = await get(`/conversations/${conv.ana}/status`);
    expect(status).toBe(200);
    const took = Date.parse(reply?.receivedAt as string) - Date.parse(first?.receivedAt as string);
    expect(body).toMatchObject({
      conversationId: conv.ana,
      status: 'active',
      agentId: 'op-ana',
      closedAt: null,
      durationMs: null,
      counts: { messages: 3, inbound: 2, outbound: 1, tickets: {} },
      responseTimes: {
        responses: 1,
        // Postgres keeps microseconds; the ISO times here, milliseconds.
        firstResponseMs: expect.toSatisfy((ms: number) => Math.abs(ms - took) <= 1),
        averageResponseMs: expect.toSatisfy((ms: number) => Math.abs(ms - took) <= 1),
        firstCustomerMessageAt: first?.receivedAt,
        firstResponseAt: reply?.receivedAt,
        waitingSince: again?.receivedAt,
      },
    });
    expect((await get(`/conversations/${conv.ben}/status`)).body).toMatchObject({
      counts: { tickets: { new: 1 } },
      responseTimes: { responses: 0, firstResponseMs: null },
    });
    expect((await get(`/conversations/${conv.acme}/status`)).status).toBe(404);
  });

  it('context: customer, recent messages, open tickets, assignment and summary', async () => {
    const ana = await get(`/conversations/${conv.ana}/context`);
    expect(ana.status).toBe(200);
    expect(ana.body).toMatchObject({
      customer: { name: 'Ana Silva', phoneE164: '+15550000001' },
      openTickets: [],
      leadJourney: null,
      assignment: { agentId: 'op-ana', activatedBy: 'op-ana', agents: ['op-ana'] },
      summary: { messages: 3, inbound: 2, outbound: 1, participants: { agents: ['op-ana'] } },
    });
    expect((ana.body.recentMessages as Json[]).map((m) => m.text)).toEqual([
      'thanks, one more thing',
      'hi Ana',
      'hello from Ana Silva',
    ]);
    const ben = await get(`/conversations/${conv.ben}/context`);
    expect(ben.body.openTickets).toEqual([
      expect.objectContaining({ externalTicketId: 'HD-18', status: 'new', subject: 'Refund for order 77' }),
    ]);
    expect((await get(`/conversations/${conv.ben}/context`, acmeToken)).status).toBe(404);
  });

  it('GET /messages/:id: one message with its conversation, 404 for another tenant', async () => {
    const page = await get<{ messages: Array<{ id: string }> }>(`/conversations/${conv.chloe}/messages`);
    const id = page.body.messages[0]?.id as string;
    const one = await get(`/messages/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id,
      conversationId: conv.chloe,
      direction: 'inbound',
      text: 'hello from Chloe Novak',
    });
    expect((await get(`/messages/${id}`, acmeToken)).status).toBe(404);
    expect((await get('/messages/not-a-uuid')).status).toBe(400);
  });
});
