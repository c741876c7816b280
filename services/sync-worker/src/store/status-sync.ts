import { type ChangeContext, type Executor, withChangeContext } from '@switchboard/db';
import type { ConversationStatus, TicketStatus } from '@switchboard/domain';
import { sql } from 'drizzle-orm';

/**
 * Ticket ↔ conversation status sync, the SQL: the locked state a decision reads, and the versioned
 * writes it makes. Each write carries its status-history context (`withChangeContext`) so the
 * history trigger records who changed what and why. Rows out; the events are the handler's.
 */

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
  return {
    ...(opts.ticketExternalId ? { ticketOwner: row.ticket_owner ?? null } : {}),
    conversation: { id: row.id, tenantId: row.tenant_id, status: row.status, version: row.version },
    tickets: await lockTickets(tx, conversationId),
  };
}

/** The conversation's tickets, row-locked in id order (after the conversation's row: one order for every writer). */
async function lockTickets(tx: Executor, conversationId: string): Promise<LockedTicket[]> {
  const t = await tx.execute<{
    id: string;
    external_id: string;
    status: TicketStatus;
    version: number;
    updated_at: Date;
  }>(sql`
    select id, external_id, status, version, updated_at from tickets
     where conversation_id = ${conversationId} order by id for update`);
  return t.rows.map((r) => ({
    id: r.id,
    externalId: r.external_id,
    status: r.status,
    version: r.version,
    updatedAt: new Date(r.updated_at),
  }));
}

/** A ticket the decision may create: its helpdesk id and what we know about it. */
export interface NewTicket {
  id: string;
  externalId: string;
  assignee?: string | undefined;
  subject?: string | undefined;
}

/**
 * Moves a conversation's status as a versioned update: the version must be the one read under the
 * row lock, or this throws and the transaction is retried. Returns the new version.
 */
export async function updateConversationStatus(
  tx: Executor,
  change: { id: string; to: ConversationStatus; version: number; at: Date },
  history: ChangeContext,
): Promise<number> {
  const at = change.at.toISOString();
  const res = await tx.execute<{ version: number }>(sql`
    update conversations
       set status = ${change.to}, version = version + 1,
           closed_at = case when ${change.to} = 'closed' then ${at}::timestamptz else closed_at end
     where id = ${change.id} and version = ${change.version} and ${withChangeContext(history)}
    returning version`);
  const v = res.rows[0]?.version;
  if (v === undefined)
    throw new Error(`conversation ${change.id} changed under its row lock (version ${change.version})`);
  return v;
}

/** Moves a ticket's status as a versioned update (see `updateConversationStatus`); returns the new version. */
export async function updateTicketStatus(
  tx: Executor,
  change: { id: string; to: TicketStatus; version: number; at: Date },
  history: ChangeContext,
): Promise<number> {
  const at = change.at.toISOString();
  const res = await tx.execute<{ version: number }>(sql`
    update tickets
       set status = ${change.to}, version = version + 1, updated_at = ${at},
           closed_at = case when ${change.to} = 'closed' then ${at}::timestamptz else null end
     where id = ${change.id} and version = ${change.version} and ${withChangeContext(history)}
    returning version`);
  const v = res.rows[0]?.version;
  if (v === undefined) throw new Error(`ticket ${change.id} changed under its row lock (version ${change.version})`);
  return v;
}

/** Inserts a ticket the helpdesk told us about before we had it, in status `to`, at version 1. */
export async function insertTicket(
  tx: Executor,
  owner: { tenantId: string; conversationId: string },
  ticket: NewTicket & { to: TicketStatus; at: Date },
  history: ChangeContext,
): Promise<void> {
  const at = ticket.at.toISOString();
  await tx.execute(sql`
    insert into tickets (id, tenant_id, conversation_id, external_id, status, assignee, subject, created_at, updated_at)
    select ${ticket.id}::uuid, ${owner.tenantId}::uuid, ${owner.conversationId}::uuid, ${ticket.externalId}::text,
           ${ticket.to}::text, ${ticket.assignee ?? null}::text, ${ticket.subject ?? null}::text,
           ${at}::timestamptz, ${at}::timestamptz
     where ${withChangeContext(history)}`);
}

/** Records who a helpdesk ticket is assigned to (no status change, no history row). */
export async function setTicketAssignee(
  tx: Executor,
  tenantId: string,
  externalId: string,
  assignee: string | null,
): Promise<void> {
  await tx.execute(sql`
    update tickets set assignee = ${assignee} where tenant_id = ${tenantId} and external_id = ${externalId}`);
}

/**
 * The conversation's agent and when it was set (`metadata.agentAt`), row-locked: the conversation
 * first, as `lockConversationState` (which follows in the same transaction) takes it.
 */
export async function conversationAgent(
  tx: Executor,
  conversationId: string,
): Promise<{ status: string | null; agentId: string | null; agentAt: Date | null }> {
  const res = await tx.execute<{ status: string; agent_id: string | null; agent_at: string | null }>(sql`
    select status, agent_id, metadata->>'agentAt' as agent_at from conversations where id = ${conversationId} for update`);
  const r = res.rows[0];
  return {
    status: r?.status ?? null,
    agentId: r?.agent_id ?? null,
    agentAt: r?.agent_at ? new Date(r.agent_at) : null,
  };
}

/**
 * Gives the conversation to `agentId` (null: nobody) as of `at`, bumping its version; null when
 * it already was. `metadata.agentAt` orders agent changes, as it does for Genesys replies.
 */
export async function reassignConversation(
  tx: Executor,
  conversationId: string,
  agentId: string | null,
  at: Date,
): Promise<{ previousAgentId: string | null; version: number } | null> {
  const res = await tx.execute<{ previous: string | null; version: number }>(sql`
    update conversations c
       set agent_id = ${agentId}::text, version = c.version + 1,
           metadata = jsonb_set(c.metadata, '{agentAt}', to_jsonb(${at.toISOString()}::text))
      from (select agent_id as previous from conversations where id = ${conversationId}) o
     where c.id = ${conversationId} and c.agent_id is distinct from ${agentId}::text
     returning o.previous, c.version`);
  const r = res.rows[0];
  return r ? { previousAgentId: r.previous, version: Number(r.version) } : null;
}

/**
 * A history row for a change that keeps the status (an agent handing the conversation to
 * another): the status again, with who, why and the cause, so the history shows every transfer.
 * The trigger writes only status changes; this is its twin for the rest, one active row kept.
 */
export async function recordKeptStatus(tx: Executor, conversationId: string, c: ChangeContext): Promise<void> {
  await tx.execute(sql`
    update status_history set is_active = false
     where entity_type = 'conversation' and entity_id = ${conversationId} and is_active`);
  await tx.execute(sql`
    insert into status_history (tenant_id, entity_type, entity_id, status, previous_status, is_active,
                                changed_by, source, reason, notes, cause_event_id, version)
    select tenant_id, 'conversation', id, status, status, true, ${c.changedBy ?? null}, ${c.source},
           ${c.reason ?? null}, ${c.notes ?? null}, ${c.causeEventId ?? null}::uuid, version
      from conversations where id = ${conversationId}`);
}
