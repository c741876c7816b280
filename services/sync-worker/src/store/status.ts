import type { OutboxEntry } from '@switchboard/db';
import { type Executor, withChangeContext } from '@switchboard/db';
import type { ConversationStatus, StatusChange, SyncDecision, TicketStatus } from '@switchboard/domain';
import { sql } from 'drizzle-orm';
import type { Deps } from '../deps.ts';
import { domainEvent } from '../handlers/events.ts';
import type { Effects } from '../handlers/route.ts';
import type { Count } from '../metrics.ts';

export interface LockedConversation {
  id: string;
  tenantId: string;
  status: ConversationStatus;
  version: number;
}
export interface LockedTicket {
  id: string;
  externalId: string;
  status: TicketStatus;
  version: number;
  /** When the helpdesk says the current status was set. */
  updatedAt: Date;
}

/**
 * The conversation and its tickets, row-locked (conversation first, then tickets by id: one order
 * for every writer). The row locks and versions are the Postgres guard behind the Redis lock: an
 * expired Redis lock can let two workers in, never two writes past each other. Null when the
 * conversation is not the tenant's.
 */
export async function lockConversationState(
  tx: Executor,
  tenantId: string,
  conversationId: string,
  opts: { ticketExternalId?: string } = {},
): Promise<{ conversation: LockedConversation; tickets: LockedTicket[]; ticketOwner?: string | null } | null> {
  // With a helpdesk ticket id, the same statement says which conversation that ticket belongs to
  // (a ticket never moves, so this statement's snapshot is good enough for it).
  const owner = opts.ticketExternalId
    ? sql`, (select t.conversation_id from tickets t
              where t.tenant_id = ${tenantId} and t.external_id = ${opts.ticketExternalId}) as ticket_owner`
    : sql``;
  const c = await tx.execute<{
    id: string;
    tenant_id: string;
    status: ConversationStatus;
    version: number;
    ticket_owner?: string | null;
  }>(sql`
    select id, tenant_id, status, version ${owner} from conversations
     where id = ${conversationId} and tenant_id = ${tenantId}
       for update`);
  const row = c.rows[0];
  if (!row) return null;
  const t = await tx.execute<{
    id: string;
    external_id: string;
    status: TicketStatus;
    version: number;
    updated_at: Date;
  }>(sql`
    select id, external_id, status, version, updated_at from tickets
     where conversation_id = ${conversationId} order by id for update`);
  return {
    ...(opts.ticketExternalId ? { ticketOwner: row.ticket_owner ?? null } : {}),
    conversation: { id: row.id, tenantId: row.tenant_id, status: row.status, version: row.version },
    tickets: t.rows.map((r) => ({
      id: r.id,
      externalId: r.external_id,
      status: r.status,
      version: r.version,
      updatedAt: new Date(r.updated_at),
    })),
  };
}

export interface Cause {
  eventId: string;
  changedBy?: string | undefined;
  at: Date;
}

/** A ticket the decision may create: its helpdesk id and what we know about it. */
export interface NewTicket {
  id: string;
  externalId: string;
  assignee?: string | undefined;
  subject?: string | undefined;
}

/**
 * Writes a decision: each change as a versioned update (the version must be the one read under
 * the row lock, or the transaction fails and is retried), its history row (by the trigger, with
 * this context), and its event; plus the close suggestion. Returns the outbox entries and the
 * changes to count once the transaction commits.
 */
export async function writeStatusDecision(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  state: { conversation: LockedConversation; tickets: LockedTicket[] },
  decision: Extract<SyncDecision, { ok: true }>,
  cause: Cause,
  created?: NewTicket,
): Promise<Effects> {
  const { conversation } = state;
  const meta = { tenantId: conversation.tenantId, conversationId: conversation.id };
  const tickets = new Map(state.tickets.map((t) => [t.id, { ...t }]));
  const outbox: OutboxEntry[] = [];
  const counts: Count[] = [];
  let convVersion = conversation.version;
  const common = (c: StatusChange, version: number) => ({
    source: c.source,
    ...(c.source !== 'sync' && cause.changedBy ? { changedBy: cause.changedBy } : {}),
    ...(c.reason ? { reason: c.reason } : {}),
    causeEventId: cause.eventId,
    version,
    at: cause.at.toISOString(),
  });

  for (const c of decision.changes) {
    // The history trigger's context, set by the write itself.
    const context = withChangeContext({
      source: c.source,
      changedBy: c.source === 'sync' ? null : cause.changedBy,
      reason: c.reason,
      notes: c.syncedFrom ? `synced from ${c.syncedFrom}` : null,
      causeEventId: cause.eventId,
    });
    if (c.entity === 'conversation') {
      const res = await tx.execute<{ version: number }>(sql`
        update conversations
           set status = ${c.to}, version = version + 1,
               closed_at = case when ${c.to} = 'closed' then ${cause.at.toISOString()}::timestamptz else closed_at end
         where id = ${c.id} and version = ${convVersion} and ${context}
        returning version`);
      const v = res.rows[0]?.version;
      if (v === undefined) throw new Error(`conversation ${c.id} changed under its row lock (version ${convVersion})`);
      convVersion = v;
      counts.push({ metric: 'statusChanges', labels: { entity: 'conversation', source: c.source } });
      outbox.push(
        domainEvent(deps, 'conversation.status.changed', meta, {
          conversationId: c.id,
          previousStatus: c.from,
          status: c.to,
          syncedFrom: c.syncedFrom,
          ...common(c, v),
        }),
      );
      continue;
    }
    let ticket = tickets.get(c.id);
    if (!ticket) {
      if (!created || created.id !== c.id) throw new Error(`decision creates unknown ticket ${c.id}`);
      await tx.execute(sql`
        insert into tickets (id, tenant_id, conversation_id, external_id, status, assignee, subject, created_at, updated_at)
        select ${created.id}::uuid, ${conversation.tenantId}::uuid, ${conversation.id}::uuid, ${created.externalId}::text,
               ${c.to}::text, ${created.assignee ?? null}::text, ${created.subject ?? null}::text,
               ${cause.at.toISOString()}::timestamptz, ${cause.at.toISOString()}::timestamptz
         where ${context}`);
      ticket = { id: created.id, externalId: created.externalId, status: c.to, version: 1, updatedAt: cause.at };
      tickets.set(c.id, ticket);
    } else {
      const res = await tx.execute<{ version: number }>(sql`
        update tickets
           set status = ${c.to}, version = version + 1, updated_at = ${cause.at.toISOString()},
               closed_at = case when ${c.to} = 'closed' then ${cause.at.toISOString()}::timestamptz else null end
         where id = ${c.id} and version = ${ticket.version} and ${context}
        returning version`);
      const v = res.rows[0]?.version;
      if (v === undefined) throw new Error(`ticket ${c.id} changed under its row lock (version ${ticket.version})`);
      ticket.version = v;
      ticket.status = c.to;
    }
    counts.push({ metric: 'statusChanges', labels: { entity: 'ticket', source: c.source } });
    outbox.push(
      domainEvent(deps, 'ticket.status.changed', meta, {
        ticketId: ticket.id,
        externalTicketId: ticket.externalId,
        conversationId: conversation.id,
        previousStatus: c.from,
        status: c.to,
        syncedFrom: c.syncedFrom,
        ...common(c, ticket.version),
      }),
    );
  }
  if (decision.suggestion) {
    outbox.push(
      domainEvent(deps, 'conversation.close.suggested', meta, {
        conversationId: conversation.id,
        reason: decision.suggestion.reason,
        ticketCount: decision.suggestion.total,
        resolvedCount: decision.suggestion.resolved,
        closedCount: decision.suggestion.closed,
        causeEventId: cause.eventId,
        at: cause.at.toISOString(),
      }),
    );
  }
  return { outbox, counts };
}
