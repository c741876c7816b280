import type { ConversationStatus } from './conversation-status.ts';
import { canMoveConversation, canMoveTicket, type TicketStatus } from './ticket-status.ts';

/**
 * Conversation ↔ ticket status sync (seed 000, sections 2 and 7), as one pure decision: the
 * current statuses and one requested change in, every resulting change out. Sync runs one step
 * only: a change sync makes is never fed back into the rules, so no change can trigger the change
 * that caused it, and nothing flaps.
 */

/** Who made a change: a person on the agent desk, the helpdesk, our own sync, the legacy import, a timer, a customer. */
export type ChangeSource = 'agent' | 'helpdesk' | 'sync' | 'migration' | 'system' | 'customer';
export const CHANGE_SOURCES = ['agent', 'helpdesk', 'sync', 'migration', 'system', 'customer'] as const;

export interface SyncState {
  conversation: { id: string; status: ConversationStatus };
  tickets: ReadonlyArray<{ id: string; status: TicketStatus }>;
}

export type StatusCommand =
  | {
      kind: 'ticket';
      ticketId: string;
      /** `created`: a no-op when the ticket exists (a late or repeated create); `status`: a move. */
      action: 'created' | 'status';
      status: TicketStatus;
      source: ChangeSource;
      reason?: string | undefined;
    }
  | { kind: 'conversation'; status: ConversationStatus; source: ChangeSource; reason?: string | undefined };

export type StatusChange =
  | {
      entity: 'conversation';
      id: string;
      from: ConversationStatus;
      to: ConversationStatus;
      source: ChangeSource;
      reason: string | undefined;
      syncedFrom: 'ticket' | null;
    }
  | {
      entity: 'ticket';
      id: string;
      /** null when the change creates the ticket. */
      from: TicketStatus | null;
      to: TicketStatus;
      source: ChangeSource;
      reason: string | undefined;
      syncedFrom: 'conversation' | null;
    };

export interface CloseSuggestion {
  reason: string;
  total: number;
  resolved: number;
  closed: number;
}

export type SyncDecision =
  | { ok: true; changes: StatusChange[]; suggestion: CloseSuggestion | null }
  | { ok: false; reason: string };

const WORKING: ReadonlySet<TicketStatus> = new Set(['open', 'in_progress']);

/** Conversation → tickets: what a conversation now in `status` does to its tickets. */
export function ticketsFollowConversation(
  status: ConversationStatus,
  tickets: SyncState['tickets'],
): Array<{ id: string; from: TicketStatus; to: TicketStatus; reason: string }> {
  switch (status) {
    case 'closed':
      return tickets
        .filter((t) => t.status !== 'closed')
        .map((t) => ({ id: t.id, from: t.status, to: 'closed' as const, reason: 'conversation closed' }));
    case 'active':
      // An agent took the conversation: untouched tickets are now owned. Waiting on the customer
      // and work already under way stay as they are.
      return tickets
        .filter((t) => t.status === 'new')
        .map((t) => ({ id: t.id, from: t.status, to: 'open' as const, reason: 'agent assigned to conversation' }));
    case 'open':
      // Back to AI or the queue: tickets keep their own workflow.
      return [];
  }
}

/**
 * Tickets → conversation: what the tickets, after a change, ask of a conversation in
 * `conversation`. A closed conversation stays closed (it is final); a working ticket makes it
 * active; all tickets closed close it; all of them done (resolved or closed, at least one
 * resolved) only suggests closing: a person decides.
 */
export function conversationFollowsTickets(
  conversation: ConversationStatus,
  tickets: SyncState['tickets'],
): { status: ConversationStatus; reason: string } | { suggest: CloseSuggestion } | null {
  if (conversation === 'closed' || tickets.length === 0) return null;
  if (tickets.some((t) => WORKING.has(t.status))) {
    return conversation === 'active' ? null : { status: 'active', reason: 'a ticket is being worked on' };
  }
  const closed = tickets.filter((t) => t.status === 'closed').length;
  const resolved = tickets.filter((t) => t.status === 'resolved').length;
  if (closed === tickets.length) return { status: 'closed', reason: 'all tickets closed' };
  if (resolved + closed === tickets.length) {
    return {
      suggest: {
        reason: closed === 0 ? 'all tickets resolved' : 'all tickets resolved or closed',
        total: tickets.length,
        resolved,
        closed,
      },
    };
  }
  return null;
}

/** The whole decision for one requested change. Rejections name the rule that refused it. */
export function decideStatusChange(state: SyncState, cmd: StatusCommand): SyncDecision {
  const conv = state.conversation;
  if (cmd.kind === 'conversation') {
    if (cmd.status === conv.status) return { ok: true, changes: [], suggestion: null };
    if (!canMoveConversation(conv.status, cmd.status)) {
      return { ok: false, reason: `illegal_transition: conversation ${conv.status} → ${cmd.status}` };
    }
    const changes: StatusChange[] = [
      {
        entity: 'conversation',
        id: conv.id,
        from: conv.status,
        to: cmd.status,
        source: cmd.source,
        reason: cmd.reason,
        syncedFrom: null,
      },
    ];
    for (const t of ticketsFollowConversation(cmd.status, state.tickets)) {
      changes.push({ entity: 'ticket', ...t, source: 'sync', syncedFrom: 'conversation' });
    }
    return { ok: true, changes, suggestion: null };
  }

  const existing = state.tickets.find((t) => t.id === cmd.ticketId);
  let ticketChange: StatusChange | null = null;
  if (!existing) {
    // A status change for a ticket we have not seen yet (its create is late) creates it as it is now.
    ticketChange = {
      entity: 'ticket',
      id: cmd.ticketId,
      from: null,
      to: cmd.status,
      source: cmd.source,
      reason: cmd.reason,
      syncedFrom: null,
    };
  } else if (cmd.action === 'status' && existing.status !== cmd.status) {
    if (!canMoveTicket(existing.status, cmd.status)) {
      return { ok: false, reason: `illegal_transition: ticket ${existing.status} → ${cmd.status}` };
    }
    ticketChange = {
      entity: 'ticket',
      id: existing.id,
      from: existing.status,
      to: cmd.status,
      source: cmd.source,
      reason: cmd.reason,
      syncedFrom: null,
    };
  }
  if (!ticketChange) return { ok: true, changes: [], suggestion: null };

  const changes: StatusChange[] = [ticketChange];
  let final = cmd.status;
  if (!existing && cmd.status === 'new' && conv.status === 'active') {
    // A ticket opened while an agent works the conversation is owned from the start (seed 000's
    // flow: assign the agent, create a ticket, it is open).
    changes.push({
      entity: 'ticket',
      id: cmd.ticketId,
      from: 'new',
      to: 'open',
      source: 'sync',
      reason: 'conversation is active',
      syncedFrom: 'conversation',
    });
    final = 'open';
  }
  const after = existing
    ? state.tickets.map((t) => (t.id === existing.id ? { id: t.id, status: final } : t))
    : [...state.tickets, { id: cmd.ticketId, status: final }];
  const follow = conversationFollowsTickets(conv.status, after);
  if (follow && 'status' in follow) {
    changes.push({
      entity: 'conversation',
      id: conv.id,
      from: conv.status,
      to: follow.status,
      source: 'sync',
      reason: follow.reason,
      syncedFrom: 'ticket',
    });
  }
  return { ok: true, changes, suggestion: follow && 'suggest' in follow ? follow.suggest : null };
}
