import { eventId } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { decideStatusChange } from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import {
  lockLiveConversationsOf,
  type MovableConversation,
  mergeCustomerRows,
  moveConversationContent,
  reassignConversations,
} from '../store/customer-merge.ts';
import { lockConversationState } from '../store/status-sync.ts';
import type { Effects } from './route.ts';
import { writeSyncDecision } from './status-sync.ts';

/**
 * The absorbed customers' conversations become the survivor's. Per channel one live conversation
 * stays: the survivor's, else the oldest of theirs; each other live one gives it its messages and
 * calls and is closed through the status rule (so its chat and tickets close as any other close).
 */
export async function mergeInto(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  survivorId: string,
  absorbedIds: string[],
  cause: { eventId: string; at: Date },
): Promise<{ effects: Effects; closedIds: string[] }> {
  const out: Effects = { outbox: [], counts: [] };
  const live = await lockLiveConversationsOf(tx, tenantId, survivorId, absorbedIds);
  const closedIds: string[] = [];
  for (const [target, losers] of liveTargets(live)) {
    for (const loser of losers) {
      await moveConversationContent(tx, tenantId, loser, target);
      const closed = await closeMerged(tx, deps, tenantId, loser, target, cause);
      out.outbox.push(...closed.outbox);
      out.counts.push(...closed.counts);
      closedIds.push(loser);
    }
  }
  await mergeCustomerRows(tx, tenantId, survivorId, absorbedIds);
  await reassignConversations(tx, tenantId, survivorId, absorbedIds);
  return { effects: out, closedIds };
}

/** Per channel: the live conversation that stays, and the ones that close into it. */
function liveTargets(live: MovableConversation[]): Map<string, string[]> {
  const byChannel = new Map<string, MovableConversation[]>();
  for (const c of live) byChannel.set(c.channel_id, [...(byChannel.get(c.channel_id) ?? []), c]);
  const out = new Map<string, string[]>();
  for (const group of byChannel.values()) {
    const target = group[0]?.survivor_live_id ?? (group[0] as MovableConversation).id;
    out.set(
      target,
      group.map((c) => c.id).filter((id) => id !== target),
    );
  }
  return out;
}

async function closeMerged(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  conversationId: string,
  into: string,
  cause: { eventId: string; at: Date },
): Promise<Effects> {
  const state = await lockConversationState(tx, tenantId, conversationId);
  if (!state) return { outbox: [], counts: [] };
  const decision = decideStatusChange(
    { conversation: { id: conversationId, status: state.conversation.status }, tickets: state.tickets },
    {
      kind: 'conversation',
      status: 'closed',
      source: 'system',
      reason: `customer merged: continued in conversation ${into}`,
    },
  );
  if (!decision.ok || decision.changes.length === 0) return { outbox: [], counts: [] };
  return writeSyncDecision(tx, deps, state, decision, {
    eventId: eventId('merge', cause.eventId, conversationId),
    at: cause.at,
  });
}
