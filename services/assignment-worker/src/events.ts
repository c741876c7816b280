import {
  AgentDeskOperatorStatusChanged,
  agentDeskRoutingKeys,
  ConversationStatusChanged,
  decodeEvent,
  domainEventType,
  inboundType,
  MessageReceived,
  MessageSent,
} from '@switchboard/contracts';
import { claimInboxMany, type Executor } from '@switchboard/db';
import type { ChatEvent } from '@switchboard/domain';
import { dead, done, type Handler, type Outcome, skipped } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Applied } from './applied.ts';
import { pushFreed } from './auto-assign.ts';
import { changeChat } from './chat-store.ts';
import { commit } from './commit.ts';
import { CONSUMER, type Deps } from './deps.ts';
import { operatorStatus } from './presence.ts';

type Apply = (tx: Executor) => Promise<Applied[]>;

/**
 * The queue's events → chat changes, each in one transaction with its inbox claim (a redelivered
 * event changes nothing) and its outbox; on auto-assign tenants what a change freed is handed out
 * in the same transaction.
 *
 * Which clock: a customer message and an operator reply are ordered by when the conversation
 * store recorded them, `receivedAt` and `recordedAt` (the desk's `sentAt` only for an event from
 * before `recordedAt` existed). Comparing the desk's clock with the store's would let their skew
 * keep a chat barred or out of the queue after the customer wrote.
 */
export function createEventHandler(deps: Deps): Handler {
  return async (msg) => {
    const decoded = decodeEvent(msg.content);
    if (!decoded.ok) return dead(`invalid_envelope: ${decoded.reason}`);
    const e = decoded.event;
    const planned = await plan(deps, e.type, e.data, e.tenantid);
    if (typeof planned !== 'function') return planned;
    const { fresh } = await commit(deps, async (tx) => {
      const claimed = await claimInboxMany(tx, CONSUMER, [e.id]);
      if (!claimed.has(e.id)) return { fresh: false, applied: [] as Applied[] };
      return { fresh: true, applied: await planned(tx) };
    });
    return fresh ? done : skipped('duplicate event');
  };
}

const invalid = (d: { success: boolean; error?: z.ZodError }) =>
  dead(`invalid_payload: ${d.success ? 'no tenantid' : z.prettifyError(d.error as z.ZodError)}`);

async function plan(deps: Deps, type: string, data: unknown, tenantId: string | undefined): Promise<Apply | Outcome> {
  switch (type) {
    case domainEventType('message.received'): {
      const d = MessageReceived.safeParse(data);
      if (!d.success || !tenantId) return invalid(d);
      return chatChange(deps, tenantId, d.data.conversationId, {
        kind: 'customer_message',
        at: new Date(d.data.receivedAt),
      });
    }
    case domainEventType('message.sent'): {
      const d = MessageSent.safeParse(data);
      if (!d.success || !tenantId) return invalid(d);
      if (d.data.author.kind !== 'operator') return skipped('not an operator reply');
      const { author, conversationId } = d.data;
      return chatChange(deps, tenantId, conversationId, {
        kind: 'operator_reply',
        operatorId: author.id,
        at: new Date(d.data.recordedAt ?? d.data.sentAt),
      });
    }
    case domainEventType('conversation.status.changed'): {
      const d = ConversationStatusChanged.safeParse(data);
      if (!d.success || !tenantId) return invalid(d);
      if (d.data.status !== 'closed') return skipped('only a close completes a chat');
      return chatChange(deps, tenantId, d.data.conversationId, { kind: 'close', at: new Date(d.data.at) });
    }
    case inboundType(agentDeskRoutingKeys.operatorStatus): {
      const d = AgentDeskOperatorStatusChanged.safeParse(data);
      if (!d.success) return dead(`invalid_payload: ${z.prettifyError(d.error)}`);
      const tenant = await resolveDesk(deps, d.data.accountId);
      if (!tenant) return dead(`unknown_channel: no active agent-desk account ${d.data.accountId}`);
      return (tx) => operatorStatus(tx, deps, tenant, d.data);
    }
    default:
      return dead(`unknown_type: no handler for ${type}`);
  }
}

/** One chat event (a close of a conversation the queue never saw is refused by the state machine: nothing happens). */
const chatChange =
  (deps: Deps, tenantId: string, chatId: string, event: ChatEvent): Apply =>
  async (tx) => {
    const a = await changeChat(tx, deps, { id: chatId, tenantId }, event);
    if (!a.ok) return [];
    return [a, ...(await pushFreed(tx, deps, tenantId, [a]))];
  };

async function resolveDesk(deps: Deps, accountId: string): Promise<string | null> {
  const r = await deps.db.execute<{ tenant_id: string }>(sql`
    select tenant_id from channels where provider = 'agent_desk' and account_id = ${accountId} and status = 'active'`);
  return r.rows[0]?.tenant_id ?? null;
}
