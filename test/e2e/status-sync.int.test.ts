import { randomUUID } from 'node:crypto';
import { ConversationStatusChanged, TicketStatusChanged } from '@switchboard/contracts';
import { closeInactiveConversations } from '@switchboard/sync-worker';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import {
  agentDeskEvent,
  helpdeskEvent,
  queueDepth,
  signedAgentDesk,
  signedHelpdesk,
  signedWhatsApp,
  whatsappText,
} from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * Seed 000's testing scenarios, through the real webhooks (helpdesk, agent desk, WhatsApp), the
 * real queues and the real database.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p.stop();
});

let phone = 16315550100;
/** A conversation opened by a customer's WhatsApp message; returns its id. */
async function openConversation(): Promise<string> {
  phone += 1;
  const wamid = `wamid.sync-${phone}`;
  const res = await p.post(
    '/webhooks/whatsapp',
    signedWhatsApp(whatsappText({ from: String(phone), id: wamid, text: 'hi' })),
  );
  expect(res.status).toBe(200);
  let id = '';
  await vi.waitFor(async () => {
    const r = await p.pool.query<{ conversation_id: string }>(
      'select conversation_id from messages where provider_message_id = $1',
      [wamid],
    );
    id = r.rows[0]?.conversation_id ?? '';
    expect(id).not.toBe('');
  });
  return id;
}

async function ticket(type: string, data: Record<string, unknown>, over: { id?: string } = {}) {
  const res = await p.postWebhooks('/webhooks/helpdesk', signedHelpdesk(helpdeskEvent(type, data, over)));
  expect(res.status).toBe(200);
}
async function desk(type: string, conversationId: string) {
  const res = await p.postWebhooks(
    '/webhooks/agent-desk',
    signedAgentDesk(agentDeskEvent(type, { conversationId, operatorId: 'op-ana' })),
  );
  expect(res.status).toBe(200);
}

const state = async (conversationId: string) => {
  const c = await p.pool.query<{ status: string }>('select status from conversations where id = $1', [conversationId]);
  const t = await p.pool.query<{ external_id: string; status: string }>(
    'select external_id, status from tickets where conversation_id = $1 order by external_id',
    [conversationId],
  );
  return { conversation: c.rows[0]?.status, tickets: Object.fromEntries(t.rows.map((r) => [r.external_id, r.status])) };
};
const until = (conversationId: string, expected: Awaited<ReturnType<typeof state>>) =>
  vi.waitFor(async () => expect(await state(conversationId)).toEqual(expected), { timeout: 10_000, interval: 50 });

const eventsFor = (key: string, conversationId: string) =>
  p.events.ofKey(key).filter((e) => e.event.subject === conversationId);

/** Every entity of the conversation has exactly one active history row, and it is its status. */
async function expectOneActiveHistoryRow(conversationId: string) {
  const bad = await p.pool.query(
    `select e.entity_type, e.id, e.status, count(h.*) filter (where h.is_active) as active,
            max(h.status) filter (where h.is_active) as active_status
       from (select 'conversation' as entity_type, id, status from conversations where id = $1
             union all select 'ticket', id, status from tickets where conversation_id = $1) e
       left join status_history h on h.entity_type = e.entity_type and h.entity_id = e.id
      group by e.entity_type, e.id, e.status
     having count(h.*) filter (where h.is_active) <> 1 or max(h.status) filter (where h.is_active) <> e.status`,
    [conversationId],
  );
  expect(bad.rows).toEqual([]);
}

describe('conversation ↔ ticket status sync (seed 000 scenarios)', () => {
  it('one ticket through its life', async () => {
    const c = await openConversation();
    await desk('conversation.assign_requested', c);
    await until(c, { conversation: 'active', tickets: {} });
    await ticket('ticket.created', { ticketId: 'T-1', conversationId: c, subject: 'Where is my order?' });
    // Created new on an active conversation: owned from the start.
    await until(c, { conversation: 'active', tickets: { 'T-1': 'open' } });
    for (const s of ['in_progress', 'pending_customer', 'in_progress', 'resolved'] as const) {
      await ticket('ticket.status_changed', { ticketId: 'T-1', conversationId: c, status: s, changedBy: 'agent-7' });
      await until(c, { conversation: 'active', tickets: { 'T-1': s } });
    }
    await vi.waitFor(() => expect(eventsFor('conversation.close.suggested', c)).toHaveLength(1));
    await ticket('ticket.status_changed', { ticketId: 'T-1', conversationId: c, status: 'closed' });
    await until(c, { conversation: 'closed', tickets: { 'T-1': 'closed' } });

    await vi.waitFor(() => expect(eventsFor('conversation.status.changed', c)).toHaveLength(2));
    const [assigned, closed] = eventsFor('conversation.status.changed', c).map((e) =>
      ConversationStatusChanged.parse(e.event.data),
    );
    expect(assigned).toMatchObject({
      previousStatus: 'open',
      status: 'active',
      source: 'agent',
      changedBy: 'op-ana',
      syncedFrom: null,
    });
    expect(closed).toMatchObject({
      previousStatus: 'active',
      status: 'closed',
      source: 'sync',
      syncedFrom: 'ticket',
      reason: 'all tickets closed',
    });
    expect(closed?.version).toBeGreaterThan(assigned?.version ?? 0);
    const ticketEvents = eventsFor('ticket.status.changed', c).map((e) => TicketStatusChanged.parse(e.event.data));
    expect(ticketEvents.map((t) => `${t.previousStatus}→${t.status}`)).toEqual([
      'null→new',
      'new→open',
      'open→in_progress',
      'in_progress→pending_customer',
      'pending_customer→in_progress',
      'in_progress→resolved',
      'resolved→closed',
    ]);
    expect(ticketEvents[1]).toMatchObject({ source: 'sync', syncedFrom: 'conversation' });
    // The cause of the automatic close is the helpdesk event that closed the ticket.
    expect(closed?.causeEventId).toBe(ticketEvents[6]?.causeEventId);

    type History = { history: Array<{ status: string; source: string; isActive: boolean }> };
    const history = (await (await p.api(`/tickets/T-1/status-history`)).json()) as History;
    expect(history.history.map((h) => h.status)).toEqual([
      'new',
      'open',
      'in_progress',
      'pending_customer',
      'in_progress',
      'resolved',
      'closed',
    ]);
    expect(history.history.filter((h) => h.isActive)).toHaveLength(1);
    const convHistory = (await (await p.api(`/conversations/${c}/status-history`)).json()) as History;
    expect(convHistory.history.map((h) => `${h.status}/${h.source}`)).toEqual([
      'open/customer',
      'active/agent',
      'closed/sync',
    ]);
    await expectOneActiveHistoryRow(c);
  });

  it('three tickets: two closed keep the conversation active, the third closes it', async () => {
    const c = await openConversation();
    for (const id of ['A', 'B', 'C']) {
      await ticket('ticket.created', { ticketId: `${c}-${id}`, conversationId: c, status: 'open' });
    }
    await until(c, { conversation: 'active', tickets: { [`${c}-A`]: 'open', [`${c}-B`]: 'open', [`${c}-C`]: 'open' } });
    await ticket('ticket.status_changed', { ticketId: `${c}-A`, conversationId: c, status: 'closed' });
    await ticket('ticket.status_changed', { ticketId: `${c}-B`, conversationId: c, status: 'closed' });
    await until(c, {
      conversation: 'active',
      tickets: { [`${c}-A`]: 'closed', [`${c}-B`]: 'closed', [`${c}-C`]: 'open' },
    });
    await ticket('ticket.status_changed', { ticketId: `${c}-C`, conversationId: c, status: 'closed' });
    await until(c, {
      conversation: 'closed',
      tickets: { [`${c}-A`]: 'closed', [`${c}-B`]: 'closed', [`${c}-C`]: 'closed' },
    });
    await expectOneActiveHistoryRow(c);
  });

  it('all tickets resolved: a suggestion, no close', async () => {
    const c = await openConversation();
    await ticket('ticket.created', { ticketId: `${c}-1`, conversationId: c, status: 'in_progress' });
    await ticket('ticket.created', { ticketId: `${c}-2`, conversationId: c, status: 'in_progress' });
    await until(c, { conversation: 'active', tickets: { [`${c}-1`]: 'in_progress', [`${c}-2`]: 'in_progress' } });
    await ticket('ticket.status_changed', { ticketId: `${c}-1`, conversationId: c, status: 'resolved' });
    await until(c, { conversation: 'active', tickets: { [`${c}-1`]: 'resolved', [`${c}-2`]: 'in_progress' } });
    await ticket('ticket.status_changed', { ticketId: `${c}-2`, conversationId: c, status: 'resolved' });
    await until(c, { conversation: 'active', tickets: { [`${c}-1`]: 'resolved', [`${c}-2`]: 'resolved' } });
    await vi.waitFor(() => expect(eventsFor('conversation.close.suggested', c)).toHaveLength(1));
    expect(eventsFor('conversation.close.suggested', c)[0]?.event.data).toMatchObject({
      reason: 'all tickets resolved',
      ticketCount: 2,
      resolvedCount: 2,
      closedCount: 0,
    });
    expect(eventsFor('conversation.status.changed', c).map((e) => e.event.data)).toEqual([
      expect.objectContaining({ status: 'active', source: 'sync' }),
    ]);
  });

  it('the conversation closed on the agent desk closes every ticket', async () => {
    const c = await openConversation();
    await ticket('ticket.created', { ticketId: `${c}-x`, conversationId: c });
    await ticket('ticket.created', { ticketId: `${c}-y`, conversationId: c, status: 'pending_customer' });
    await ticket('ticket.created', { ticketId: `${c}-z`, conversationId: c, status: 'resolved' });
    await until(c, {
      conversation: 'open',
      tickets: { [`${c}-x`]: 'new', [`${c}-y`]: 'pending_customer', [`${c}-z`]: 'resolved' },
    });
    await desk('conversation.close_requested', c);
    await until(c, {
      conversation: 'closed',
      tickets: { [`${c}-x`]: 'closed', [`${c}-y`]: 'closed', [`${c}-z`]: 'closed' },
    });
    const synced = () =>
      eventsFor('ticket.status.changed', c)
        .map((e) => TicketStatusChanged.parse(e.event.data))
        .filter((t) => t.source === 'sync');
    await vi.waitFor(() => expect(synced()).toHaveLength(3));
    expect(synced().every((t) => t.syncedFrom === 'conversation' && t.status === 'closed')).toBe(true);
    await expectOneActiveHistoryRow(c);
  });

  it('a helpdesk event delivered 5 times changes nothing after the first', async () => {
    const c = await openConversation();
    const id = `hd-${randomUUID()}`;
    for (let i = 0; i < 5; i++) {
      // The helpdesk re-sends the same delivery id, each time freshly signed.
      await ticket('ticket.created', { ticketId: `${c}-once`, conversationId: c, status: 'in_progress' }, { id });
    }
    await until(c, { conversation: 'active', tickets: { [`${c}-once`]: 'in_progress' } });
    await new Promise((r) => setTimeout(r, 500));
    const rows = await p.pool.query<{ n: string }>(
      `select count(*) as n from status_history where entity_id in (select id from tickets where conversation_id = $1)`,
      [c],
    );
    expect(Number(rows.rows[0]?.n)).toBe(1);
    expect(eventsFor('ticket.status.changed', c)).toHaveLength(1);
    expect(eventsFor('conversation.status.changed', c)).toHaveLength(1);
  });

  it('an illegal transition is dead-lettered with its reason and changes nothing', async () => {
    const c = await openConversation();
    await ticket('ticket.created', { ticketId: `${c}-r`, conversationId: c, status: 'resolved' });
    await until(c, { conversation: 'open', tickets: { [`${c}-r`]: 'resolved' } });
    const deadBefore = await queueDepth(
      `${p.names.inbound.replace('switchboard.inbound', '')}sync-worker.inbound.dead`,
    );
    await ticket('ticket.status_changed', { ticketId: `${c}-r`, conversationId: c, status: 'pending_customer' });
    await vi.waitFor(
      async () =>
        expect(await queueDepth(`${p.names.inbound.replace('switchboard.inbound', '')}sync-worker.inbound.dead`)).toBe(
          deadBefore + 1,
        ),
      { timeout: 10_000 },
    );
    expect(await state(c)).toEqual({ conversation: 'open', tickets: { [`${c}-r`]: 'resolved' } });
    const metrics = await (await fetch(`${p.workerUrl}/metrics`)).text();
    expect(metrics).toMatch(/status_requests_rejected_total\{[^}]*reason="illegal_transition"[^}]*\} 1/);
  });

  it("refuses a ticket for another tenant's conversation", async () => {
    const c = await openConversation();
    await p.pool.query(`insert into tenants (slug, name) values ('other', 'Other') on conflict do nothing`);
    await p.pool.query(
      `insert into channels (tenant_id, provider, account_id) select id, 'helpdesk', 'other-helpdesk' from tenants where slug = 'other'`,
    );
    const res = await p.postWebhooks(
      '/webhooks/helpdesk',
      signedHelpdesk({
        ...helpdeskEvent('ticket.created', { ticketId: 'X-1', conversationId: c }),
        accountId: 'other-helpdesk',
      }),
    );
    expect(res.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await state(c)).toEqual({ conversation: 'open', tickets: {} });
  });

  it('closes a chat conversation after the inactivity period, with its tickets, on a controllable clock', async () => {
    const idle = await openConversation();
    const busy = await openConversation();
    await ticket('ticket.created', { ticketId: `${idle}-t`, conversationId: idle, status: 'in_progress' });
    await until(idle, { conversation: 'active', tickets: { [`${idle}-t`]: 'in_progress' } });
    const deps = p.worker?.deps;
    if (!deps) throw new Error('worker not running');
    // The clock says two days from now; the busy conversation had activity "just now" on that clock.
    const later = new Date(Date.now() + 2 * 86_400_000);
    await p.pool.query('update conversations set last_activity_at = $2 where id = $1', [busy, later.toISOString()]);
    const clock = { ...deps, now: () => later };
    expect(await closeInactiveConversations(clock, 86_400_000)).toBeGreaterThanOrEqual(1);
    expect(await state(idle)).toEqual({ conversation: 'closed', tickets: { [`${idle}-t`]: 'closed' } });
    expect((await state(busy)).conversation).toBe('open');
    await vi.waitFor(() =>
      expect(eventsFor('conversation.status.changed', idle).map((e) => e.event.data)).toContainEqual(
        expect.objectContaining({ status: 'closed', source: 'system', reason: 'no activity for 1440 minutes' }),
      ),
    );
    // Nothing left to close: a second sweep is a no-op for it.
    await closeInactiveConversations(clock, 86_400_000);
    expect(
      eventsFor('conversation.status.changed', idle).filter(
        (e) => (e.event.data as { status: string }).status === 'closed',
      ),
    ).toHaveLength(1);
    await expectOneActiveHistoryRow(idle);
  });
});
