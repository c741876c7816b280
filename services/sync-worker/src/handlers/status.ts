import { randomUUID } from 'node:crypto';
import { AgentDeskConversationRequested, type CloudEvent, HelpdeskTicketChanged } from '@switchboard/contracts';
import { type Executor, unclaimInbox } from '@switchboard/db';
import {
  type ConversationStatus,
  decideStatusChange,
  type StatusCommand,
  type TicketStatus,
} from '@switchboard/domain';
import { dead, done, type Outcome, skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { activeChannel } from '@switchboard/worker';
import { sql } from 'drizzle-orm';
import { CONSUMER, type Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { type LockedTicket, lockConversationState, type NewTicket, writeStatusDecision } from '../store/status.ts';
import { type Applied, route } from './route.ts';

/**
 * Status requests from the helpdesk (tickets) and the agent desk (conversations), applied through
 * one pure decision (`decideStatusChange`) under the conversation's Redis lock and row locks.
 */

type Request = {
  entity: 'ticket' | 'conversation';
  conversationId: string;
  /** A helpdesk ticket's id: refused if that ticket belongs to another conversation. */
  ticketExternalId?: string;
  changedBy: string | undefined;
  /** Builds the command from the locked state (an `assigned` ticket needs its current status). */
  command: (
    tickets: LockedTicket[],
  ) => { cmd: StatusCommand; created?: NewTicket } | { reject: string } | { stale: string };
  /** Extra writes beside the status (the conversation's agent). */
  after?: (tx: Executor, conversationId: string) => Promise<void>;
};

/**
 * A refused request: dead-lettered with its reason and counted. Its inbox claim is dropped in the
 * same transaction, so replaying it from the dead-letter queue (after the state it needed exists)
 * is evaluated again rather than skipped as a duplicate.
 */
async function reject(tx: Executor, event: CloudEvent, entity: string, reason: string): Promise<Applied> {
  await unclaimInbox(tx, CONSUMER, event.id);
  const counts: Count[] = [{ metric: 'statusRejected', labels: { entity, reason: reason.split(':')[0] ?? reason } }];
  return { outcome: dead(reason), outbox: [], counts };
}

/** Decides and writes one request, timed (the time is counted with it, once it committed). */
async function applyRequest(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  tenantId: string,
  r: Request,
): Promise<Applied> {
  const started = performance.now();
  const applied = await decideRequest(tx, deps, event, tenantId, r);
  const seconds = (performance.now() - started) / 1000;
  applied.counts.push({ metric: 'syncDuration', labels: { entity: r.entity }, value: seconds });
  return applied;
}

/** Locks the conversation's state, decides the request and writes what follows from it. */
async function decideRequest(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  tenantId: string,
  r: Request,
): Promise<Applied> {
  const state = await lockConversationState(
    tx,
    tenantId,
    r.conversationId,
    r.ticketExternalId ? { ticketExternalId: r.ticketExternalId } : {},
  );
  if (!state) return reject(tx, event, r.entity, `unknown_conversation: ${r.conversationId} is not this tenant's`);
  // The helpdesk's ticket id is unique per tenant: it may not move to another conversation.
  if (state.ticketOwner && state.ticketOwner !== state.conversation.id) {
    return reject(
      tx,
      event,
      r.entity,
      `ticket_conversation_mismatch: ticket ${r.ticketExternalId} belongs to another conversation`,
    );
  }
  const built = r.command(state.tickets);
  if ('reject' in built) return reject(tx, event, r.entity, built.reject);
  if ('stale' in built) return { outcome: skipped(built.stale), outbox: [], counts: [] };
  const decision = decideStatusChange(
    { conversation: { id: state.conversation.id, status: state.conversation.status }, tickets: state.tickets },
    built.cmd,
  );
  if (!decision.ok) return reject(tx, event, r.entity, decision.reason);
  const effects = await writeStatusDecision(
    tx,
    deps,
    state,
    decision,
    { eventId: event.id, changedBy: r.changedBy, at: new Date(event.time) },
    built.created,
  );
  await r.after?.(tx, state.conversation.id);
  const outcome: Outcome = decision.changes.length === 0 && !decision.suggestion ? skipped('no status change') : done;
  return { outcome, ...effects };
}

type Ticket = HelpdeskTicketChanged;

/** Every status request about a conversation takes that conversation's lock. */
const conversationLock = (p: { channel: Channel; conversationId: string }) => [
  `conversation:${p.channel.tenantId}:${p.conversationId}`,
];

export const helpdeskTicketRoute = route<Ticket, { channel: Channel; conversationId: string }>({
  schema: HelpdeskTicketChanged,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'helpdesk', event.data.accountId);
    if (!channel.ok) return channel;
    return { ok: true, value: { channel: channel.value, conversationId: event.data.conversationId } };
  },
  lockKeys: conversationLock,
  async apply(tx, deps, items) {
    const out: Applied[] = [];
    for (const { event, value } of items) {
      const e = event.data;
      const tenantId = value.channel.tenantId;
      out.push(
        await applyRequest(tx, deps, event, tenantId, {
          entity: 'ticket',
          conversationId: e.conversationId,
          ticketExternalId: e.ticketId,
          changedBy: e.changedBy ?? e.assignee,
          command: (tickets) => ticketCommand(e, tickets),
          after: e.assignee
            ? async () => {
                await tx.execute(sql`
                  update tickets set assignee = ${e.assignee ?? null} where tenant_id = ${tenantId} and external_id = ${e.ticketId}`);
              }
            : undefined,
        }),
      );
    }
    return out;
  },
});

/** Helpdesk event → command. `assigned` owns a new ticket (new → open) and leaves others as they are. */
function ticketCommand(
  e: Ticket,
  tickets: LockedTicket[],
): { cmd: StatusCommand; created?: NewTicket } | { reject: string } | { stale: string } {
  const existing = tickets.find((t) => t.externalId === e.ticketId);
  // Deliveries can overtake each other (retries, parallel batches): a change older than the one
  // the ticket already shows is stale, so the status never moves back in time.
  if (existing && e.action !== 'created' && new Date(e.at) < existing.updatedAt) {
    return { stale: `stale: ticket ${e.ticketId} changed after ${e.at}` };
  }
  let status: TicketStatus | undefined = e.status;
  if (e.action === 'assigned')
    status = existing ? (existing.status === 'new' ? 'open' : existing.status) : (e.status ?? 'open');
  if (!status) return { reject: `invalid_request: ${e.action} needs a status` };
  const id = existing?.id ?? randomUUID();
  return {
    cmd: {
      kind: 'ticket',
      ticketId: id,
      action: e.action === 'created' ? 'created' : 'status',
      status,
      source: 'helpdesk',
      reason: e.reason ?? (e.action === 'assigned' ? `assigned to ${e.assignee ?? 'someone'}` : undefined),
    },
    ...(existing ? {} : { created: { id, externalId: e.ticketId, assignee: e.assignee, subject: e.subject } }),
  };
}

type ConversationRequest = AgentDeskConversationRequested;
const target: Record<ConversationRequest['action'], ConversationStatus> = {
  assign: 'active',
  release: 'open',
  close: 'closed',
};

export const agentDeskConversationRoute = route<ConversationRequest, { channel: Channel; conversationId: string }>({
  schema: AgentDeskConversationRequested,
  async prepare(deps, event) {
    const channel = await activeChannel(deps, 'agent_desk', event.data.accountId);
    if (!channel.ok) return channel;
    return { ok: true, value: { channel: channel.value, conversationId: event.data.conversationId } };
  },
  lockKeys: conversationLock,
  async apply(tx, deps, items) {
    const out: Applied[] = [];
    for (const { event, value } of items) {
      const e = event.data;
      out.push(
        await applyRequest(tx, deps, event, value.channel.tenantId, {
          entity: 'conversation',
          conversationId: e.conversationId,
          changedBy: e.operatorId,
          command: () => ({
            cmd: {
              kind: 'conversation',
              status: target[e.action],
              source: 'agent',
              reason: e.reason ?? `${e.action} requested on the agent desk`,
            },
          }),
          after: async (tx2, conversationId) => {
            if (e.action === 'close') return;
            const agent = e.action === 'assign' ? e.operatorId : null;
            await tx2.execute(sql`
              update conversations set agent_id = ${agent}::text, version = version + 1
               where id = ${conversationId} and agent_id is distinct from ${agent}::text`);
          },
        }),
      );
    }
    return out;
  },
});
