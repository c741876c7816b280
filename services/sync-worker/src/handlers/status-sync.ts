import type { ChangeContext, Executor, OutboxEntry } from '@switchboard/db';
import type { CloseSuggestion, StatusChange, SyncDecision } from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import {
  insertTicket,
  type LockedConversation,
  type LockedTicket,
  type NewTicket,
  updateConversationStatus,
  updateTicketStatus,
} from '../store/status-sync.ts';
import { domainEvent } from './events.ts';
import type { Effects } from './route.ts';

/** What caused a sync decision: the event (or timer) id, who asked, and when. */
export interface SyncCause {
  eventId: string;
  changedBy?: string | undefined;
  at: Date;
}

type ConversationChange = Extract<StatusChange, { entity: 'conversation' }>;
type TicketChange = Extract<StatusChange, { entity: 'ticket' }>;
type EventMeta = { tenantId: string; conversationId: string };

/** The status-history context of one change: a sync follows the change it came from, so nobody "made" it. */
export const historyContext = (c: StatusChange, cause: SyncCause): ChangeContext => ({
  source: c.source,
  changedBy: c.source === 'sync' ? null : cause.changedBy,
  reason: c.reason,
  notes: c.syncedFrom ? `synced from ${c.syncedFrom}` : null,
  causeEventId: cause.eventId,
});

/** The fields every status-changed event carries about its change and cause. */
const changeFields = (c: StatusChange, cause: SyncCause, version: number) => ({
  source: c.source,
  ...(c.source !== 'sync' && cause.changedBy ? { changedBy: cause.changedBy } : {}),
  ...(c.reason ? { reason: c.reason } : {}),
  causeEventId: cause.eventId,
  version,
  at: cause.at.toISOString(),
});

/**
 * Writes a status-sync decision under the row locks `state` was read with: each change as a
 * versioned update with its history context, its `*.status.changed` event and its count, then
 * the close suggestion. Returns the outbox entries and the counts for after the commit.
 */
export async function writeSyncDecision(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  state: { conversation: LockedConversation; tickets: LockedTicket[] },
  decision: Extract<SyncDecision, { ok: true }>,
  cause: SyncCause,
  created?: NewTicket,
): Promise<Effects> {
  const { conversation } = state;
  const meta = { tenantId: conversation.tenantId, conversationId: conversation.id };
  const tickets = new Map(state.tickets.map((t) => [t.id, { ...t }]));
  const effects: Effects = { outbox: [], counts: [] };
  let version = conversation.version;
  for (const c of decision.changes) {
    const written =
      c.entity === 'conversation'
        ? await writeConversationChange(tx, deps, meta, c, cause, version)
        : await writeTicketChange(tx, deps, meta, tickets, c, cause, created);
    if (c.entity === 'conversation') version = written.version;
    effects.outbox.push(written.event);
    effects.counts.push(written.count);
  }
  if (decision.suggestion) effects.outbox.push(closeSuggestedEvent(deps, meta, decision.suggestion, cause));
  return effects;
}

interface WrittenChange {
  version: number;
  event: OutboxEntry;
  count: Count;
}

/** A conversation's move, versioned against the version the decision read (or the previous move's). */
async function writeConversationChange(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  meta: EventMeta,
  c: ConversationChange,
  cause: SyncCause,
  readVersion: number,
): Promise<WrittenChange> {
  const version = await updateConversationStatus(
    tx,
    { id: c.id, to: c.to, version: readVersion, at: cause.at },
    historyContext(c, cause),
  );
  const event = domainEvent(deps, 'conversation.status.changed', meta, {
    conversationId: c.id,
    previousStatus: c.from,
    status: c.to,
    syncedFrom: c.syncedFrom,
    ...changeFields(c, cause, version),
  });
  return { version, event, count: { metric: 'statusChanges', labels: { entity: 'conversation', source: c.source } } };
}

/**
 * A ticket's move; a ticket the decision names but the state does not hold is the one this request
 * creates (`created`), inserted at version 1. `tickets` tracks versions across the changes.
 */
async function writeTicketChange(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  meta: EventMeta,
  tickets: Map<string, LockedTicket>,
  c: TicketChange,
  cause: SyncCause,
  created: NewTicket | undefined,
): Promise<WrittenChange> {
  const history = historyContext(c, cause);
  let ticket = tickets.get(c.id);
  if (!ticket) {
    if (!created || created.id !== c.id) throw new Error(`decision creates unknown ticket ${c.id}`);
    await insertTicket(tx, meta, { ...created, to: c.to, at: cause.at }, history);
    ticket = { id: created.id, externalId: created.externalId, status: c.to, version: 1, updatedAt: cause.at };
    tickets.set(c.id, ticket);
  } else {
    ticket.version = await updateTicketStatus(
      tx,
      { id: c.id, to: c.to, version: ticket.version, at: cause.at },
      history,
    );
    ticket.status = c.to;
  }
  const event = domainEvent(deps, 'ticket.status.changed', meta, {
    ticketId: ticket.id,
    externalTicketId: ticket.externalId,
    conversationId: meta.conversationId,
    previousStatus: c.from,
    status: c.to,
    syncedFrom: c.syncedFrom,
    ...changeFields(c, cause, ticket.version),
  });
  return {
    version: ticket.version,
    event,
    count: { metric: 'statusChanges', labels: { entity: 'ticket', source: c.source } },
  };
}

/** Every ticket resolved or closed: the conversation is suggested for closing, not closed. */
const closeSuggestedEvent = (
  deps: Pick<Deps, 'names' | 'now'>,
  meta: EventMeta,
  s: CloseSuggestion,
  cause: SyncCause,
): OutboxEntry =>
  domainEvent(deps, 'conversation.close.suggested', meta, {
    conversationId: meta.conversationId,
    reason: s.reason,
    ticketCount: s.total,
    resolvedCount: s.resolved,
    closedCount: s.closed,
    causeEventId: cause.eventId,
    at: cause.at.toISOString(),
  });
