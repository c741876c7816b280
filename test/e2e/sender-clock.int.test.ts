import { randomUUID } from 'node:crypto';
import { createEvent, eventId, inboundType } from '@switchboard/contracts';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  agentDeskEvent,
  DEV_AGENT_DESK_ACCOUNT,
  DEV_HELPDESK_ACCOUNT,
  helpdeskEvent,
  publishInbound,
  signedAgentDesk,
  signedHelpdesk,
  signedWhatsApp,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A sender's clock is bounded by ours: one report dated a year ahead must not make every later
 * real one stale (a ticket stuck, an operator left online after a real `offline`). The edge clamps
 * at verification; the workers bound again, for events that reached the queue another way.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline({ assignment: true });
});
afterAll(async () => {
  await p.stop();
});

const YEAR_AHEAD = () => new Date(Date.now() + 365 * 86_400_000);

async function openConversation(): Promise<string> {
  const wamid = `wamid.clock-${randomUUID()}`;
  const from = `1631555${String(Math.floor(Math.random() * 9000) + 1000)}`;
  expect(
    (await p.post('/webhooks/whatsapp', signedWhatsApp(whatsappText({ from, id: wamid, text: 'hi' })))).status,
  ).toBe(200);
  await expect
    .poll(
      async () => {
        const r = await p.pool.query('select conversation_id from messages where provider_message_id = $1', [wamid]);
        return r.rows[0]?.conversation_id as string | undefined;
      },
      { timeout: 10_000 },
    )
    .toBeDefined();
  const r = await p.pool.query('select conversation_id from messages where provider_message_id = $1', [wamid]);
  const conversationId = r.rows[0]?.conversation_id as string;
  // Assigned, so its tickets are owned from the start (the status-sync rules).
  const assign = agentDeskEvent('conversation.assign_requested', { conversationId, operatorId: 'op-ana' });
  expect((await p.postWebhooks('/webhooks/agent-desk', signedAgentDesk(assign))).status).toBe(200);
  await expect
    .poll(
      async () =>
        (await p.pool.query('select status from conversations where id = $1', [conversationId])).rows[0]?.status,
      { timeout: 10_000 },
    )
    .toBe('active');
  return conversationId;
}

const ticketStatus = async (ticketId: string) =>
  (await p.pool.query('select status, updated_at from tickets where external_id = $1', [ticketId])).rows[0] as
    | { status: string; updated_at: Date }
    | undefined;

async function ticket(type: string, data: Record<string, unknown>, at?: Date) {
  const res = await p.postWebhooks('/webhooks/helpdesk', signedHelpdesk(helpdeskEvent(type, data, at ? { at } : {})));
  expect(res.status).toBe(200);
}

describe('a sender clock ahead of ours', () => {
  it('helpdesk: a change dated a year ahead is clamped, and the next real change still applies', async () => {
    const conversationId = await openConversation();
    const ticketId = `T-${randomUUID()}`;
    await ticket('ticket.created', { ticketId, conversationId, status: 'open' });
    await expect.poll(async () => (await ticketStatus(ticketId))?.status, { timeout: 10_000 }).toBe('open');
    await ticket('ticket.status_changed', { ticketId, conversationId, status: 'in_progress' }, YEAR_AHEAD());
    await expect.poll(async () => (await ticketStatus(ticketId))?.status, { timeout: 10_000 }).toBe('in_progress');
    expect((await ticketStatus(ticketId))?.updated_at.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
    const clamped = await p.webhooks.metrics.senderClockClamped.get();
    expect(clamped.values).toEqual([expect.objectContaining({ labels: { provider: 'helpdesk' }, value: 1 })]);

    // A few seconds later, as a real next change comes: the clamp bounds the future time to 5 s.
    await expect.poll(() => Date.now(), { timeout: 7_000, interval: 200 }).toBeGreaterThan(Date.now() + 5_500);
    await ticket('ticket.status_changed', { ticketId, conversationId, status: 'resolved' });
    await expect.poll(async () => (await ticketStatus(ticketId))?.status, { timeout: 10_000 }).toBe('resolved');
  });

  it('sync-worker: bounds a ticket event dated ahead that reached the queue without the edge', async () => {
    const conversationId = await openConversation();
    const ticketId = `T-${randomUUID()}`;
    const at = YEAR_AHEAD().toISOString();
    const deliveryId = `hd-${randomUUID()}`;
    const data = {
      provider: 'helpdesk',
      accountId: DEV_HELPDESK_ACCOUNT,
      helpdeskEventId: deliveryId,
      at,
      action: 'created',
      ticketId,
      conversationId,
      status: 'open',
    };
    const key = 'helpdesk.ticket.changed';
    await publishInbound(
      p.names.inbound,
      key,
      createEvent({
        id: eventId('helpdesk', DEV_HELPDESK_ACCOUNT, deliveryId),
        source: '/test',
        type: inboundType(key),
        time: new Date(at),
        subject: conversationId,
        data,
      }),
    );
    await expect.poll(async () => (await ticketStatus(ticketId))?.status, { timeout: 10_000 }).toBe('open');
    expect((await ticketStatus(ticketId))?.updated_at.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
  });

  it('assignment-worker: an operator reported online a year ahead goes offline on the real report', async () => {
    const operatorId = `op-${randomUUID()}`;
    const presence = (status: string, at?: Date) =>
      p.postWebhooks(
        '/webhooks/agent-desk',
        signedAgentDesk(agentDeskEvent('operator.status_changed', { operatorId, status }, at ? { at } : {})),
      );
    const status = async () =>
      (await p.pool.query('select status from operators where id = $1', [operatorId])).rows[0]?.status as
        | string
        | undefined;
    expect((await presence('online', YEAR_AHEAD())).status).toBe(200);
    await expect.poll(status, { timeout: 10_000 }).toBe('online');
    await expect.poll(() => Date.now(), { timeout: 7_000, interval: 200 }).toBeGreaterThan(Date.now() + 5_500);
    expect((await presence('offline')).status).toBe(200);
    await expect.poll(status, { timeout: 10_000 }).toBe('offline');
  });

  it('assignment-worker: bounds a presence report dated ahead that reached the queue without the edge', async () => {
    const operatorId = `op-${randomUUID()}`;
    const key = 'agentdesk.operator.status.changed';
    const report = (status: string, at: Date) => {
      const deskEventId = `desk-${randomUUID()}`;
      return createEvent({
        id: eventId('agent_desk', DEV_AGENT_DESK_ACCOUNT, deskEventId),
        source: '/test',
        type: inboundType(key),
        time: at,
        subject: operatorId,
        data: {
          provider: 'agent_desk',
          accountId: DEV_AGENT_DESK_ACCOUNT,
          deskEventId,
          at: at.toISOString(),
          operatorId,
          status,
        },
      });
    };
    await publishInbound(p.names.inbound, key, report('online', YEAR_AHEAD()));
    const row = async () =>
      (await p.pool.query('select status, updated_at from operators where id = $1', [operatorId])).rows[0];
    await expect.poll(async () => (await row())?.status, { timeout: 10_000 }).toBe('online');
    expect((await row())?.updated_at?.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);
  });
});
