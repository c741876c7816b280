import { randomUUID } from 'node:crypto';
import {
  agentDeskRoutingKeys,
  createEvent,
  encodeEvent,
  helpdeskRoutingKeys,
  inboundType,
} from '@switchboard/contracts';
import {
  type ConversationStatus,
  canMoveConversation,
  canMoveTicket,
  TICKET_STATUSES,
  type TicketStatus,
} from '@switchboard/domain';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { testUrls } from '@switchboard/testing';
import amqp from 'amqplib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

/**
 * The status-sync property against the real worker and Postgres: random ticket and conversation
 * events, with redeliveries, published at once so they interleave across the worker's parallel
 * batches. Whatever order they land in, Postgres ends with one active history row per entity
 * equal to its status, a history in which every row follows from the one before, only legal
 * moves, and a conversation that never leaves `closed`.
 */
let p: Pipeline;
let conn: amqp.ChannelModel;
let ch: amqp.ConfirmChannel;
beforeAll(async () => {
  p = await startPipeline();
  conn = await amqp.connect(testUrls.amqp);
  ch = await conn.createConfirmChannel();
});
afterAll(async () => {
  await conn.close();
  await p.stop();
});

type Cmd =
  | { kind: 'ticket'; ticket: number; action: 'created' | 'status_changed'; status: TicketStatus }
  | { kind: 'conversation'; action: 'assign' | 'release' | 'close' };

const arbCmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('ticket' as const),
      ticket: fc.integer({ min: 1, max: 3 }),
      action: fc.constantFrom('created' as const, 'status_changed' as const),
      status: fc.constantFrom(...TICKET_STATUSES),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('conversation' as const),
      action: fc.constantFrom('assign' as const, 'release' as const, 'close' as const),
    }),
  },
);

const consumed = async () => {
  const metric = await p.worker?.metrics.registry.getSingleMetric('events_consumed_total')?.get();
  return (metric?.values ?? []).filter((v) => v.labels.outcome !== 'retry').reduce((n, v) => n + v.value, 0);
};

async function publish(conversationId: string, cmds: Cmd[], order: number[]) {
  const base = Date.now();
  const events = cmds.map((c, i) => {
    const at = new Date(base + i).toISOString();
    const id = randomUUID();
    if (c.kind === 'ticket') {
      return {
        key: helpdeskRoutingKeys.ticketChanged,
        event: createEvent({
          id,
          source: '/test',
          type: inboundType(helpdeskRoutingKeys.ticketChanged),
          time: new Date(at),
          subject: conversationId,
          data: {
            provider: 'helpdesk',
            accountId: 'dev-helpdesk',
            helpdeskEventId: id,
            at,
            action: c.action,
            ticketId: `${conversationId}-${c.ticket}`,
            conversationId,
            status: c.status,
          },
        }),
      };
    }
    return {
      key: agentDeskRoutingKeys.conversationRequested,
      event: createEvent({
        id,
        source: '/test',
        type: inboundType(agentDeskRoutingKeys.conversationRequested),
        time: new Date(at),
        subject: conversationId,
        data: {
          provider: 'agent_desk',
          accountId: 'dev-agent-desk',
          deskEventId: id,
          at,
          action: c.action,
          conversationId,
          operatorId: 'op-1',
        },
      }),
    };
  });
  for (const i of order) {
    const e = events[i];
    if (!e) continue;
    ch.publish(p.names.inbound, e.key, encodeEvent(e.event), { persistent: true, messageId: e.event.id });
  }
  await ch.waitForConfirms();
}

async function checkInvariants(conversationId: string) {
  const rows = await p.pool.query<{
    entity_type: string;
    entity_id: string;
    status: string;
    previous_status: string | null;
    is_active: boolean;
    source: string;
    reason: string | null;
    version: number;
  }>(
    `select h.entity_type, h.entity_id, h.status, h.previous_status, h.is_active, h.source, h.reason, h.version
       from status_history h
      where h.entity_id = $1 or h.entity_id in (select id from tickets where conversation_id = $1)
      order by h.id`,
    [conversationId],
  );
  const current = await p.pool.query<{ id: string; status: string }>(
    `select id, status from conversations where id = $1 union all select id, status from tickets where conversation_id = $1`,
    [conversationId],
  );
  const byEntity = new Map<string, typeof rows.rows>();
  for (const r of rows.rows) byEntity.set(r.entity_id, [...(byEntity.get(r.entity_id) ?? []), r]);
  for (const { id, status } of current.rows) {
    const history = byEntity.get(id) ?? [];
    const active = history.filter((h) => h.is_active);
    expect(
      active.map((h) => h.status),
      `one active row for ${id}`,
    ).toEqual([status]);
    history.forEach((h, k) => {
      const prev = history[k - 1];
      expect(h.previous_status, `history of ${id} chains`).toBe(prev ? prev.status : null);
      if (prev) expect(h.version).toBeGreaterThan(prev.version);
      if (prev && h.entity_type === 'ticket' && h.source !== 'sync') {
        expect(
          canMoveTicket(prev.status as TicketStatus, h.status as TicketStatus),
          `${prev.status} → ${h.status}`,
        ).toBe(true);
      }
      if (prev && h.entity_type === 'conversation') {
        // A row that keeps the status records an agent change (issue 18: every transfer is in the
        // history); any other row is a legal move.
        if (h.status === prev.status) expect(h.reason, `${h.status} kept`).toMatch(/^transferred from /);
        else expect(canMoveConversation(prev.status as ConversationStatus, h.status as ConversationStatus)).toBe(true);
      }
    });
  }
}

describe('status sync under concurrent interleavings with redeliveries (property, real worker and Postgres)', () => {
  it('keeps one active history row per entity, a consistent history and legal moves', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(arbCmd, { minLength: 1, maxLength: 12 }).chain((cmds) =>
          fc
            .array(fc.nat({ max: cmds.length - 1 }), { maxLength: 6 })
            .chain((copies) =>
              fc.shuffledSubarray([...cmds.keys(), ...copies], { minLength: cmds.length + copies.length }),
            )
            .map((order) => ({ cmds, order })),
        ),
        async ({ cmds, order }) => {
          const { rows } = await p.pool.query<{ id: string }>(
            `with cu as (insert into customers (tenant_id, phone_e164) values ($1, $2) returning id)
             insert into conversations (tenant_id, channel_id, customer_id, provider, status)
             select $1, $3, cu.id, 'whatsapp', 'open' from cu returning id`,
            [
              p.tenant.tenantId,
              `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`,
              p.tenant.channels.whatsapp,
            ],
          );
          const conversationId = rows[0]?.id as string;
          const before = await consumed();
          await publish(conversationId, cmds, order);
          await vi.waitFor(async () => expect(await consumed()).toBe(before + order.length), {
            timeout: 20_000,
            interval: 20,
          });
          await checkInvariants(conversationId);
        },
      ),
      { numRuns: 150 },
    );
  });
});
