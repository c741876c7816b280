import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONVERSATION_STATUSES, type ConversationStatus } from './conversation-status.ts';
import {
  conversationFollowsTickets,
  decideStatusChange,
  type StatusChange,
  type StatusCommand,
  type SyncState,
  ticketsFollowConversation,
} from './status-sync.ts';
import { canMoveConversation, canMoveTicket, TICKET_STATUSES, type TicketStatus } from './ticket-status.ts';

const T = (...statuses: TicketStatus[]) => statuses.map((status, i) => ({ id: `t${i + 1}`, status }));
const state = (conversation: ConversationStatus, ...tickets: TicketStatus[]): SyncState => ({
  conversation: { id: 'c', status: conversation },
  tickets: T(...tickets),
});
const moves = (changes: StatusChange[]) => changes.map((c) => `${c.entity} ${c.id}: ${c.from} → ${c.to} (${c.source})`);

describe('ticket transitions', () => {
  it.each([
    ['new', 'open', true],
    ['new', 'closed', true],
    ['open', 'in_progress', true],
    ['in_progress', 'pending_customer', true],
    ['pending_customer', 'in_progress', true],
    ['waiting_internal', 'resolved', true],
    ['resolved', 'in_progress', true],
    ['resolved', 'closed', true],
    ['closed', 'open', true],
    ['open', 'new', false],
    ['resolved', 'new', false],
    ['resolved', 'pending_customer', false],
    ['closed', 'in_progress', false],
    ['closed', 'resolved', false],
  ] as const)('%s → %s is %s', (from, to, legal) => {
    expect(canMoveTicket(from, to)).toBe(legal);
  });

  it('never returns to new, and every status can be closed or left', () => {
    for (const from of TICKET_STATUSES) {
      expect(canMoveTicket(from, 'new')).toBe(false);
      if (from !== 'closed') expect(canMoveTicket(from, 'closed')).toBe(true);
    }
  });
});

describe('conversation transitions', () => {
  it.each([
    ['open', 'active', true],
    ['active', 'open', true],
    ['open', 'closed', true],
    ['active', 'closed', true],
    ['closed', 'open', false],
    ['closed', 'active', false],
  ] as const)('%s → %s is %s', (from, to, legal) => {
    expect(canMoveConversation(from, to)).toBe(legal);
  });
});

describe('conversation → tickets', () => {
  it.each([
    [
      'closed',
      ['new', 'open', 'pending_customer', 'resolved', 'closed'],
      ['t1→closed', 't2→closed', 't3→closed', 't4→closed'],
    ],
    ['active', ['new', 'new', 'pending_customer', 'in_progress', 'waiting_internal'], ['t1→open', 't2→open']],
    ['open', ['new', 'open', 'in_progress'], []],
  ] as const)('a conversation made %s: %j gives %j', (status, tickets, expected) => {
    const out = ticketsFollowConversation(status, T(...tickets));
    expect(out.map((c) => `${c.id}→${c.to}`)).toEqual(expected);
  });
});

describe('tickets → conversation', () => {
  it.each([
    ['open', ['open'], 'active'],
    ['open', ['in_progress', 'closed'], 'active'],
    ['active', ['in_progress', 'new'], null],
    ['active', ['closed', 'closed'], 'closed'],
    ['open', ['closed'], 'closed'],
    ['active', ['closed', 'closed', 'new'], null],
    ['active', ['pending_customer', 'waiting_internal'], null],
    ['closed', ['open'], null], // closed is final
    ['closed', ['in_progress', 'new'], null],
  ] as const)('conversation %s with tickets %j becomes %s', (conv, tickets, expected) => {
    const out = conversationFollowsTickets(conv, T(...tickets));
    expect(out && 'status' in out ? out.status : null).toBe(expected);
  });

  it.each([
    [['resolved', 'resolved'], { reason: 'all tickets resolved', total: 2, resolved: 2, closed: 0 }],
    [['resolved', 'closed'], { reason: 'all tickets resolved or closed', total: 2, resolved: 1, closed: 1 }],
  ] as const)('tickets %j only suggest closing', (tickets, suggestion) => {
    expect(conversationFollowsTickets('active', T(...tickets))).toEqual({ suggest: suggestion });
  });

  it('a conversation without tickets is left alone', () => {
    expect(conversationFollowsTickets('active', [])).toBeNull();
  });
});

describe('decideStatusChange', () => {
  const ticket = (ticketId: string, status: TicketStatus, action: 'created' | 'status' = 'status'): StatusCommand => ({
    kind: 'ticket',
    ticketId,
    action,
    status,
    source: 'helpdesk',
  });
  const conversation = (status: ConversationStatus): StatusCommand => ({
    kind: 'conversation',
    status,
    source: 'agent',
  });

  it('closing the conversation closes every ticket that is not closed', () => {
    const d = decideStatusChange(state('active', 'open', 'resolved', 'closed'), conversation('closed'));
    expect(d.ok && moves(d.changes)).toEqual([
      'conversation c: active → closed (agent)',
      'ticket t1: open → closed (sync)',
      'ticket t2: resolved → closed (sync)',
    ]);
  });

  it('making the conversation active opens new tickets, leaves pending_customer and work in progress', () => {
    const d = decideStatusChange(state('open', 'new', 'pending_customer', 'in_progress'), conversation('active'));
    expect(d.ok && moves(d.changes)).toEqual(['conversation c: open → active (agent)', 'ticket t1: new → open (sync)']);
  });

  it('reopening the conversation to open changes no ticket', () => {
    const d = decideStatusChange(state('active', 'new', 'in_progress'), conversation('open'));
    expect(d.ok && moves(d.changes)).toEqual(['conversation c: active → open (agent)']);
  });

  it('a ticket moved to in_progress makes the conversation active', () => {
    const d = decideStatusChange(state('open', 'open'), ticket('t1', 'in_progress'));
    expect(d.ok && moves(d.changes)).toEqual([
      'ticket t1: open → in_progress (helpdesk)',
      'conversation c: open → active (sync)',
    ]);
    expect(d.ok && d.changes[1]?.syncedFrom).toBe('ticket');
  });

  it('the last ticket closed closes the conversation; an earlier one does not', () => {
    const two = decideStatusChange(state('active', 'closed', 'open', 'open'), ticket('t2', 'closed'));
    expect(two.ok && moves(two.changes)).toEqual(['ticket t2: open → closed (helpdesk)']);
    const last = decideStatusChange(state('active', 'closed', 'closed', 'open'), ticket('t3', 'closed'));
    expect(last.ok && moves(last.changes)).toEqual([
      'ticket t3: open → closed (helpdesk)',
      'conversation c: active → closed (sync)',
    ]);
  });

  it('all tickets resolved suggests closing and closes nothing', () => {
    const d = decideStatusChange(state('active', 'resolved', 'in_progress'), ticket('t2', 'resolved'));
    expect(d).toEqual({
      ok: true,
      changes: [expect.objectContaining({ entity: 'ticket', from: 'in_progress', to: 'resolved' })],
      suggestion: { reason: 'all tickets resolved', total: 2, resolved: 2, closed: 0 },
    });
  });

  it('a new ticket on an active conversation starts open', () => {
    const d = decideStatusChange(state('active'), ticket('t9', 'new', 'created'));
    expect(d.ok && moves(d.changes)).toEqual(['ticket t9: null → new (helpdesk)', 'ticket t9: new → open (sync)']);
  });

  it('a new or reopened ticket on a closed conversation leaves it closed', () => {
    const created = decideStatusChange(state('closed'), ticket('t9', 'new', 'created'));
    expect(created.ok && moves(created.changes)).toEqual(['ticket t9: null → new (helpdesk)']);
    const reopened = decideStatusChange(state('closed', 'closed'), ticket('t1', 'open'));
    expect(reopened.ok && moves(reopened.changes)).toEqual(['ticket t1: closed → open (helpdesk)']);
  });

  it('a repeated or late create of a known ticket changes nothing', () => {
    expect(decideStatusChange(state('active', 'in_progress'), ticket('t1', 'new', 'created'))).toEqual({
      ok: true,
      changes: [],
      suggestion: null,
    });
  });

  it('a status change for an unseen ticket creates it as it is now', () => {
    const d = decideStatusChange(state('open'), ticket('t5', 'in_progress'));
    expect(d.ok && moves(d.changes)).toEqual([
      'ticket t5: null → in_progress (helpdesk)',
      'conversation c: open → active (sync)',
    ]);
  });

  it.each([
    [
      state('active', 'resolved'),
      ticket('t1', 'pending_customer'),
      'illegal_transition: ticket resolved → pending_customer',
    ],
    [state('active', 'closed'), ticket('t1', 'in_progress'), 'illegal_transition: ticket closed → in_progress'],
    [state('closed'), conversation('active'), 'illegal_transition: conversation closed → active'],
  ])('rejects an illegal request with its reason', (s, cmd, reason) => {
    expect(decideStatusChange(s, cmd)).toEqual({ ok: false, reason });
  });

  it('staying in a status is a no-op, not a rejection', () => {
    expect(decideStatusChange(state('closed'), conversation('closed'))).toEqual({
      ok: true,
      changes: [],
      suggestion: null,
    });
    expect(decideStatusChange(state('active', 'open'), ticket('t1', 'open'))).toEqual({
      ok: true,
      changes: [],
      suggestion: null,
    });
  });
});

/**
 * A model of the store: statuses plus the history (one row per change, one active per entity),
 * fed through `decideStatusChange` exactly as the sync-worker does, with an inbox that drops a
 * redelivered event.
 */
interface Model {
  conversation: ConversationStatus;
  tickets: Map<string, TicketStatus>;
  history: Array<{ entity: string; status: string; active: boolean }>;
  applied: Set<number>;
}

const arbCommand: fc.Arbitrary<StatusCommand> = fc.oneof(
  fc.record({
    kind: fc.constant('ticket' as const),
    ticketId: fc.constantFrom('t1', 't2', 't3'),
    action: fc.constantFrom('created' as const, 'status' as const),
    status: fc.constantFrom(...TICKET_STATUSES),
    source: fc.constant('helpdesk' as const),
  }),
  fc.record({
    kind: fc.constant('conversation' as const),
    status: fc.constantFrom(...CONVERSATION_STATUSES),
    source: fc.constant('agent' as const),
  }),
);

/** Events with ids, then a delivery order that interleaves them and repeats some (redeliveries). */
const arbDeliveries = fc.array(arbCommand, { minLength: 1, maxLength: 30 }).chain((cmds) =>
  fc
    .array(fc.nat({ max: cmds.length - 1 }), { maxLength: 15 })
    .chain((repeats) => fc.shuffledSubarray([...cmds.keys(), ...repeats], { minLength: cmds.length + repeats.length }))
    .map((order) => order.map((id) => ({ id, cmd: cmds[id] as StatusCommand }))),
);

function deliver(m: Model, id: number, cmd: StatusCommand): { rejected: boolean; changes: StatusChange[] } {
  if (m.applied.has(id)) return { rejected: false, changes: [] };
  m.applied.add(id);
  const d = decideStatusChange(
    {
      conversation: { id: 'c', status: m.conversation },
      tickets: [...m.tickets].map(([tid, status]) => ({ id: tid, status })),
    },
    cmd,
  );
  if (!d.ok) return { rejected: true, changes: [] };
  for (const c of d.changes) {
    for (const h of m.history) if (h.entity === c.id) h.active = false;
    m.history.push({ entity: c.id, status: c.to, active: true });
    if (c.entity === 'conversation') m.conversation = c.to;
    else m.tickets.set(c.id, c.to);
  }
  return { rejected: false, changes: d.changes };
}

describe('status sync under random interleavings and redeliveries (property)', () => {
  it('keeps every rule, one active history row per entity, and never loops', () => {
    fc.assert(
      fc.property(arbDeliveries, (deliveries) => {
        const m: Model = { conversation: 'open', tickets: new Map(), history: [], applied: new Set() };
        let closedOnce = false;
        for (const { id, cmd } of deliveries) {
          const before = { conversation: m.conversation, tickets: new Map(m.tickets) };
          const { rejected, changes } = deliver(m, id, cmd);
          if (rejected) {
            // A rejected request changes nothing.
            expect(m.conversation).toBe(before.conversation);
            expect(m.tickets).toEqual(before.tickets);
            continue;
          }
          // One step of sync at most: one change to the entity asked about, plus what follows from it.
          expect(
            changes.filter(
              (c) =>
                c.source === 'sync' &&
                c.entity === (cmd.kind === 'ticket' ? 'ticket' : 'conversation') &&
                c.syncedFrom !== 'conversation',
            ),
          ).toEqual([]);
          // Every helpdesk move is legal; sync only closes tickets or opens new ones, and only moves the conversation to active or closed.
          for (const c of changes) {
            if (c.entity === 'ticket' && c.from !== null && c.source !== 'sync')
              expect(canMoveTicket(c.from, c.to)).toBe(true);
            if (c.entity === 'ticket' && c.source === 'sync') expect(['open', 'closed']).toContain(c.to);
            if (c.entity === 'conversation') expect(canMoveConversation(c.from, c.to)).toBe(true);
          }
          // Closed is final.
          if (closedOnce) expect(m.conversation).toBe('closed');
          if (m.conversation === 'closed') closedOnce = true;
          // The rules, right after the event that triggers them.
          if (changes.length > 0 && cmd.kind === 'conversation' && cmd.status === 'closed') {
            expect([...m.tickets.values()].every((s) => s === 'closed')).toBe(true);
          }
          if (changes.length > 0 && cmd.kind === 'conversation' && cmd.status === 'active') {
            expect([...m.tickets.values()]).not.toContain('new');
          }
          if (changes.some((c) => c.entity === 'ticket') && cmd.kind === 'ticket' && before.conversation !== 'closed') {
            const all = [...m.tickets.values()];
            if (all.some((s) => s === 'open' || s === 'in_progress')) expect(m.conversation).toBe('active');
            if (all.every((s) => s === 'closed')) expect(m.conversation).toBe('closed');
            if (all.every((s) => s === 'resolved')) expect(m.conversation).toBe(before.conversation);
          }
          // Exactly one active history row per entity, and it is the entity's status.
          const active = m.history.filter((h) => h.active);
          expect(new Set(active.map((h) => h.entity)).size).toBe(active.length);
          for (const [tid, s] of m.tickets) expect(active.find((h) => h.entity === tid)?.status).toBe(s);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('a redelivered event changes nothing: the outcome equals that of each event once', () => {
    fc.assert(
      fc.property(arbDeliveries, (deliveries) => {
        const withCopies: Model = { conversation: 'open', tickets: new Map(), history: [], applied: new Set() };
        const once: Model = { conversation: 'open', tickets: new Map(), history: [], applied: new Set() };
        const seen = new Set<number>();
        for (const { id, cmd } of deliveries) {
          deliver(withCopies, id, cmd);
          if (!seen.has(id)) {
            seen.add(id);
            deliver(once, id, cmd);
          }
        }
        expect(withCopies.conversation).toBe(once.conversation);
        expect(withCopies.tickets).toEqual(once.tickets);
        expect(withCopies.history).toEqual(once.history);
      }),
      { numRuns: 1_000 },
    );
  });
});
