import type { Executor } from '@switchboard/db';
import type { Deps } from '../deps.ts';
import { reassignConversation, recordKeptStatus } from '../store/status-sync.ts';
import { domainEvent } from './events.ts';
import { type Effects, noEffects } from './route.ts';

/** Who takes the conversation, as of when, through which system, and what caused it. */
export interface AgentChange {
  agentId: string | null;
  at: Date;
  /** The system the agent works in: `agent_desk` (a desk request), `assignment` (the chat queue). */
  origin: string;
  causeEventId: string;
  /** Whether the same request changed the status too (its history row then names the agent already). */
  statusChanged: boolean;
  /** Said in the history row beside the agent change (a transfer's note). */
  note?: string | undefined;
}

/** A history row's reason for a conversation handed from one agent (or nobody) to another. */
export const transferReason = (from: string | null, to: string, note?: string) =>
  `transferred from ${from ?? 'nobody'} to ${to}${note ? ` (${note})` : ''}`;

/**
 * Gives a locked conversation to another agent (or to nobody): `conversation.transferred` once
 * whenever a new agent takes it (the first one too, as for Genesys replies), and a history row
 * naming the new agent when the status stays (an active conversation handed from one agent to
 * another), so every transfer is in the history. Nothing when the agent is already this one.
 */
export async function changeAgent(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  c: { tenantId: string; id: string },
  change: AgentChange,
): Promise<Effects> {
  const moved = await reassignConversation(tx, c.id, change.agentId, change.at);
  if (!moved || change.agentId === null) return noEffects();
  if (!change.statusChanged) {
    await recordKeptStatus(tx, c.id, {
      source: 'agent',
      changedBy: change.agentId,
      reason: transferReason(moved.previousAgentId, change.agentId, change.note),
      causeEventId: change.causeEventId,
    });
  }
  const transferred = domainEvent(
    deps,
    'conversation.transferred',
    { tenantId: c.tenantId, conversationId: c.id },
    {
      conversationId: c.id,
      previousAgentId: moved.previousAgentId,
      agentId: change.agentId,
      origin: change.origin,
      version: moved.version,
      at: change.at.toISOString(),
    },
  );
  return { outbox: [transferred], counts: [{ metric: 'transfers', labels: { origin: change.origin } }] };
}
