import type { CloudEvent } from '@switchboard/contracts';
import { type Executor, unclaimInbox } from '@switchboard/db';
import { boundSenderTime, decideStatusChange, type StatusCommand } from '@switchboard/domain';
import { dead, done, type Outcome, skipped } from '@switchboard/platform';
import { activeChannel, type Channel } from '@switchboard/worker';
import { CONSUMER, type Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { type LockedTicket, lockConversationState, type NewTicket } from '../store/status-sync.ts';
import type { Applied, Effects, Prepared } from './route.ts';
import { writeSyncDecision } from './status-sync.ts';

/**
 * Status-sync requests from the helpdesk (tickets) and the agent desk (conversations), applied
 * through one pure decision (`decideStatusChange`) under the conversation's Redis lock and row
 * locks.
 */

/** What a request asks, built from the locked state: a command, a refusal, or "already newer". */
export type SyncCommand = { cmd: StatusCommand; created?: NewTicket } | { reject: string } | { stale: string };

export type SyncRequest = {
  entity: 'ticket' | 'conversation';
  conversationId: string;
  /** A helpdesk ticket's id: refused if that ticket belongs to another conversation. */
  ticketExternalId?: string;
  changedBy: string | undefined;
  /** Builds the command from the locked state (an `assigned` ticket needs its current status). */
  command: (tickets: LockedTicket[]) => SyncCommand;
  /**
   * Extra writes beside the status (the conversation's agent), told whether the status changed;
   * their events and counts join the decision's.
   */
  after?: (tx: Executor, conversationId: string, statusChanged: boolean) => Promise<Effects | undefined>;
};

/** What a status request is applied in: the channel it came in on and the conversation it names. */
export type ConversationScope = { channel: Channel; conversationId: string };

/**
 * A status request's `prepare`: the sender's active channel (unknown or disabled: parked) and the
 * conversation it is about. The helpdesk and the agent desk differ only in their provider.
 */
export const prepareConversationRequest =
  (provider: 'helpdesk' | 'agent_desk') =>
  async (
    deps: Pick<Deps, 'resolveChannel'>,
    event: { data: { accountId: string; conversationId: string } },
  ): Promise<Prepared<ConversationScope>> => {
    const channel = await activeChannel(deps, provider, event.data.accountId);
    if (!channel.ok) return channel;
    return { ok: true, value: { channel: channel.value, conversationId: event.data.conversationId } };
  };

/** Every status request about a conversation takes that conversation's lock. */
export const conversationLock = (p: ConversationScope) => [`conversation:${p.channel.tenantId}:${p.conversationId}`];

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
export async function applySyncRequest(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  tenantId: string,
  r: SyncRequest,
): Promise<Applied> {
  const started = performance.now();
  // The sender's time orders status changes; bounded again here for events queued before the edge did.
  const time = boundSenderTime(event.time, deps.now()).at;
  const applied = await decideSyncRequest(tx, deps, { ...event, time }, tenantId, r);
  const seconds = (performance.now() - started) / 1000;
  applied.counts.push({ metric: 'syncDuration', labels: { entity: r.entity }, value: seconds });
  return applied;
}

/** Locks the conversation's state, decides the request and writes what follows from it. */
async function decideSyncRequest(
  tx: Executor,
  deps: Deps,
  event: CloudEvent,
  tenantId: string,
  r: SyncRequest,
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
    const reason = `ticket_conversation_mismatch: ticket ${r.ticketExternalId} belongs to another conversation`;
    return reject(tx, event, r.entity, reason);
  }
  const built = r.command(state.tickets);
  if ('reject' in built) return reject(tx, event, r.entity, built.reject);
  if ('stale' in built) return { outcome: skipped(built.stale), outbox: [], counts: [] };
  const { conversation, tickets } = state;
  const decision = decideStatusChange(
    { conversation: { id: conversation.id, status: conversation.status }, tickets },
    built.cmd,
  );
  if (!decision.ok) return reject(tx, event, r.entity, decision.reason);
  const cause = { eventId: event.id, changedBy: r.changedBy, at: new Date(event.time) };
  const effects = await writeSyncDecision(tx, deps, state, decision, cause, built.created);
  const statusChanged = decision.changes.some((c) => c.entity === 'conversation');
  const extra = await r.after?.(tx, conversation.id, statusChanged);
  const changed = decision.changes.length > 0 || decision.suggestion || (extra?.outbox.length ?? 0) > 0;
  const outcome: Outcome = changed ? done : skipped('no status change');
  return {
    outcome,
    outbox: [...effects.outbox, ...(extra?.outbox ?? [])],
    counts: [...effects.counts, ...(extra?.counts ?? [])],
    ...(effects.afterCommit || extra?.afterCommit
      ? { afterCommit: [...(effects.afterCommit ?? []), ...(extra?.afterCommit ?? [])] }
      : {}),
  };
}
