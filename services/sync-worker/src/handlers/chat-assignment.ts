import { ChatAssigned, ChatCompleted, ChatReleased, type CloudEvent } from '@switchboard/contracts';
import { asTenant, type Executor, isUuid } from '@switchboard/db';

import type { ConversationStatus } from '@switchboard/domain';
import { skipped } from '@switchboard/platform';
import type { Channel } from '@switchboard/worker';
import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { Deps } from '../deps.ts';
import { conversationAgent } from '../store/status-sync.ts';
import { changeAgent, transferReason } from './agent-change.ts';
import { type Applied, type Prepared, route } from './route.ts';
import { applySyncRequest, type ConversationScope, conversationLock } from './status-sync-request.ts';

/**
 * The chat queue moves the conversation (seed 000: assign → active, release → open, resolve →
 * closed). The assignment-worker announces `chat.assigned`, `chat.released` and `chat.completed`
 * on switchboard.events (a chat's id is its conversation's); these routes apply them through the
 * same decision, history and events as a desk request, with the operator as the actor, so a
 * conversation's `new` tickets open when an operator takes it. Inbox-claimed like every event:
 * a redelivery changes nothing. Forward only: an event older than the conversation's latest agent
 * change (`metadata.agentAt`) is skipped as stale, and a release from an operator who no longer
 * has the conversation changes nothing. A transfer moves the conversation on its `chat.assigned`
 * alone (mode `transfer`), from one agent to the other; its release (`toOperatorId`) changes
 * nothing, so the pair gives the same history in whichever order it arrives.
 */

/** The conversation's own channel: domain events name the tenant, not a provider account. */
async function prepareChat(
  deps: Pick<Deps, 'pool'>,
  event: CloudEvent<{ chatId: string }>,
): Promise<Prepared<ConversationScope>> {
  const tenantId = event.tenantid;
  if (!tenantId || !isUuid(tenantId)) return { ok: false, outcome: skipped('no tenant on the event') };
  // Read under the event's tenant: Row-Level Security shows a conversation to its tenant only.
  const res = await asTenant(deps.pool, tenantId, (db) =>
    db.execute<{ id: string; provider: string; account_id: string; status: string }>(sql`
      select ch.id, ch.provider, ch.account_id, ch.status
        from conversations c join channels ch on ch.id = c.channel_id
       where c.id = ${event.data.chatId} and c.tenant_id = ${tenantId}`),
  );
  const ch = res.rows[0];
  if (!ch) return { ok: false, outcome: skipped('no such conversation') };
  const channel: Channel = { id: ch.id, tenantId, provider: ch.provider, accountId: ch.account_id, status: ch.status };
  return { ok: true, value: { channel, conversationId: event.data.chatId } };
}

type Move = {
  status: ConversationStatus;
  agentId: string | null;
  changedBy: string | null;
  reason: string;
  /** `system` when no person acted (the stuck sweep's completion). */
  source?: 'agent' | 'system';
  /** Said beside the agent change in its history row (a transfer's note). */
  note?: string | undefined;
};
type Decide = (current: { agentId: string | null }) => Move | { skip: string };

/**
 * Applies one chat event's move to its conversation through the status-sync request (the same
 * decision, history and events as a desk request), then its agent change. The conversation's row
 * is locked first (the order every writer uses), and the move is decided from its agent: unless
 * an agent change newer than the event happened, which makes the event stale.
 */
async function applyChatMove(
  tx: Executor,
  deps: Deps,
  event: CloudEvent<{ chatId: string; at: string }>,
  scope: ConversationScope,
  decide: Decide,
): Promise<Applied> {
  const tenantId = scope.channel.tenantId;
  const at = new Date(event.data.at);
  const current = await conversationAgent(tx, scope.conversationId);
  // A closed conversation is final (a chat event that raced its close changes nothing), and an
  // agent change newer than the event makes the event stale.
  const move: Move | { skip: string } =
    current.status === 'closed'
      ? { skip: 'the conversation is closed' }
      : current.agentAt && current.agentAt > at
        ? { skip: 'an agent change newer than this event' }
        : decide(current);
  return applySyncRequest(tx, deps, event, tenantId, {
    entity: 'conversation',
    conversationId: scope.conversationId,
    changedBy: 'skip' in move ? undefined : (move.changedBy ?? undefined),
    command: () =>
      'skip' in move
        ? { stale: move.skip }
        : { cmd: { kind: 'conversation', status: move.status, source: move.source ?? 'agent', reason: move.reason } },
    after: async (tx2, conversationId, statusChanged) => {
      if ('skip' in move || move.status === 'closed') return undefined;
      return changeAgent(
        tx2,
        deps,
        { tenantId, id: conversationId },
        { agentId: move.agentId, at, origin: 'assignment', causeEventId: event.id, statusChanged, note: move.note },
      );
    },
  });
}

/**
 * A chat event's route: its schema, the conversation's channel, the conversation's lock, and each
 * event applied by `applyChatMove` with the move `decide` reads from the event.
 */
function chatRoute<E extends { chatId: string; at: string }>(schema: z.ZodType<E>, decide: (e: E) => Decide) {
  return route<E, ConversationScope>({
    schema,
    prepare: prepareChat,
    lockKeys: conversationLock,
    async apply(tx, deps, items) {
      const out: Applied[] = [];
      for (const { event, value } of items) out.push(await applyChatMove(tx, deps, event, value, decide(event.data)));
      return out;
    },
  });
}

export const chatAssignedRoute = chatRoute(ChatAssigned, (e) => (current) => ({
  status: 'active',
  agentId: e.operatorId,
  changedBy: e.operatorId,
  reason:
    e.mode === 'transfer'
      ? transferReason(current.agentId ?? e.fromOperatorId ?? null, e.operatorId, e.note)
      : `assigned to ${e.operatorId} (${e.mode})`,
  note: e.note,
}));

/** Releases that hand the conversation back to the queue; `replied` and `completed` do not. */
const REOPENING = new Set(['idle', 'released', 'transfer', 'wrong_queue', 'manual_fix', 'operator_offline']);

export const chatReleasedRoute = chatRoute(ChatReleased, (e) => (current) => {
  // A reply ends the assignment, not the agent's work: the conversation stays active.
  if (!REOPENING.has(e.reason)) return { skip: `released (${e.reason}): the conversation stays` };
  // A transfer's release: the assignment published with it moves the conversation.
  if (e.toOperatorId) return { skip: `handed to ${e.toOperatorId}: its chat.assigned moves the conversation` };
  if (current.agentId !== e.operatorId) return { skip: 'the conversation is with another agent' };
  const note = e.note ? ` (${e.note})` : '';
  return { status: 'open', agentId: null, changedBy: e.operatorId, reason: `released: ${e.reason}${note}` };
});

export const chatCompletedRoute = chatRoute(ChatCompleted, (e) => (current) => {
  // `closed`: the conversation's close completed the chat; nothing left to do.
  if (e.reason === 'closed') return { skip: 'the conversation is closed already' };
  // The stuck sweep completes a chat nobody answered for too long: nobody acted.
  const bySweep = e.reason === 'stuck';
  return {
    status: 'closed',
    agentId: current.agentId,
    changedBy: bySweep ? null : current.agentId,
    reason: `completed: ${e.reason}`,
    source: bySweep ? 'system' : 'agent',
  };
});
