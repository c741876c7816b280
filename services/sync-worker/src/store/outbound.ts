import type { ChangeContext, Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';
import { touchLiveConversations } from './batch.ts';

/** A conversation with what an outbound message needs: its customer's address and its agent. */
export type OutboundConversation = {
  id: string;
  tenant_id: string;
  customer_id: string;
  channel_id: string;
  provider: string;
  status: string;
  agent_id: string | null;
  genesys_conversation_id: string | null;
  version: number;
  whatsapp_id: string | null;
  phone_e164: string | null;
  /** The customer's current WhatsApp business-scoped user id (a username-only customer has only this). */
  whatsapp_user_id: string | null;
  email: string | null;
  account_id: string;
  /** When the current agent was last seen answering (a later message from another agent is a transfer). */
  agent_at: string | null;
};

const select = sql`
  select c.id, c.tenant_id, c.customer_id, c.channel_id, c.provider, c.status, c.agent_id,
         c.genesys_conversation_id, c.version, cu.whatsapp_id, cu.phone_e164, cu.whatsapp_user_id, cu.email, ch.account_id,
         c.metadata->>'agentAt' as agent_at
    from conversations c
    join customers cu on cu.id = c.customer_id and cu.tenant_id = c.tenant_id
    join channels ch on ch.id = c.channel_id and ch.tenant_id = c.tenant_id`;

/** The tenant's conversation by our id, row-locked; null for another tenant's or none. */
export async function lockConversationById(
  tx: Executor,
  tenantId: string,
  conversationId: string,
): Promise<OutboundConversation | null> {
  const res = await tx.execute<OutboundConversation>(sql`
    ${select} where c.tenant_id = ${tenantId} and c.id = ${conversationId} for update of c`);
  return res.rows[0] ?? null;
}

/**
 * The tenant's conversation a Genesys message belongs to, row-locked: the one mapped to the
 * Genesys conversation id (the live one, else the newest closed one), or else the customer's
 * WhatsApp conversation found by the Open Messaging recipient id (the customer's WhatsApp id, or
 * for a customer without a phone number a business-scoped user id they have or had): the live
 * one, else their latest. A closed answer is the caller's to follow (`lockSuccessor`).
 */
export async function lockConversationForGenesys(
  tx: Executor,
  tenantId: string,
  genesysConversationId: string | undefined,
  recipient: { whatsappId: string; phone: string | null },
): Promise<OutboundConversation | null> {
  if (genesysConversationId) {
    const mapped = await tx.execute<OutboundConversation>(sql`
      ${select} where c.tenant_id = ${tenantId} and c.genesys_conversation_id = ${genesysConversationId}
       order by (c.status <> 'closed') desc, c.opened_at desc limit 1 for update of c`);
    if (mapped.rows[0]) return mapped.rows[0];
  }
  const byRecipient = await tx.execute<OutboundConversation>(sql`
    ${select} where c.tenant_id = ${tenantId} and c.provider = 'whatsapp'
       and (cu.whatsapp_id = ${recipient.whatsappId} or cu.phone_e164 = ${recipient.phone}::text
            or cu.id in (select u.customer_id from customer_whatsapp_user_ids u
                          where u.tenant_id = ${tenantId} and u.user_id = ${recipient.whatsappId}))
     order by (c.status <> 'closed') desc, c.last_activity_at desc limit 1 for update of c`);
  return byRecipient.rows[0] ?? null;
}

/**
 * The live conversation that follows a closed one: the same customer's on the same channel (they
 * wrote again since), touched, or one opened now, its history saying who opened it (`opener`).
 * Row-locked either way. The partial unique index on live conversations makes a concurrent first
 * message of the customer and this converge on one row.
 */
export async function lockSuccessor(
  tx: Executor,
  closed: OutboundConversation,
  at: Date,
  opener: ChangeContext,
): Promise<{ conversation: OutboundConversation; created: boolean; openedAt: Date }> {
  const [live] = await touchLiveConversations(
    tx,
    [
      {
        tenantId: closed.tenant_id,
        channelId: closed.channel_id,
        customerId: closed.customer_id,
        provider: closed.provider,
        activityAt: at,
      },
    ],
    opener,
  );
  const conversation = live && (await lockConversationById(tx, closed.tenant_id, live.id));
  if (!live || !conversation) throw new Error(`no live conversation after ${closed.id}`);
  return { conversation, created: live.created, openedAt: new Date(live.opened_at) };
}

/**
 * Records what an outbound message changes on its conversation: activity, the Genesys
 * conversation id once known, the agent. Returns the new version. The caller holds the row lock.
 */
export async function touchForOutbound(
  tx: Executor,
  c: OutboundConversation,
  change: { at: Date; genesysConversationId?: string; agentId?: string | undefined },
): Promise<number> {
  const res = await tx.execute<{ version: number }>(sql`
    update conversations
       set last_activity_at = greatest(last_activity_at, ${change.at.toISOString()}::timestamptz),
           genesys_conversation_id = coalesce(${change.genesysConversationId ?? null}::text, genesys_conversation_id),
           agent_id = coalesce(${change.agentId ?? null}::text, agent_id),
           metadata = case when ${change.agentId ?? null}::text is null then metadata
                           else jsonb_set(metadata, '{agentAt}', to_jsonb(${change.at.toISOString()}::text)) end,
           version = version + 1
     where id = ${c.id} and tenant_id = ${c.tenant_id} and version = ${c.version}
    returning version`);
  const row = res.rows[0];
  if (!row) throw new Error(`conversation ${c.id} changed under its row lock`);
  return row.version;
}

/** Inserts the outbound message once; null when this origin's message id is already stored. */
export async function insertOutboundMessage(
  tx: Executor,
  m: {
    id: string;
    tenantId: string;
    conversationId: string;
    origin: string;
    originMessageId: string;
    type: string;
    body: string | null;
    content: Record<string, unknown>;
    at: Date;
  },
): Promise<{ id: string; received_at: Date } | null> {
  const res = await tx.execute<{ id: string; received_at: Date }>(sql`
    insert into messages (id, tenant_id, conversation_id, direction, provider, provider_message_id, type, body, content,
                          provider_sent_at, delivery_status)
    values (${m.id}, ${m.tenantId}, ${m.conversationId}, 'outbound', ${m.origin}, ${m.originMessageId}, ${m.type}, ${m.body},
            ${JSON.stringify(m.content)}::jsonb, ${m.at.toISOString()}::timestamptz, null)
    on conflict (tenant_id, provider, provider_message_id) do nothing
    returning id, received_at`);
  const row = res.rows[0];
  return row ? { id: row.id, received_at: new Date(row.received_at) } : null;
}
