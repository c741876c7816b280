import { type Executor, schema } from '@switchboard/db';
import { sql } from 'drizzle-orm';
import type { MessageKey } from './messages.ts';

/** A tenant's message as the dispatch route sees it: its direction and its id on its channel, if known. */
export type DispatchTarget = {
  id: string;
  direction: string;
  /** The conversation's provider: the channel the message goes out on. */
  channel_provider: string;
  /** Its id at that provider: its own key when it is stored under one, else its alias, else null. */
  channel_message_id: string | null;
};

export async function findDispatchTarget(
  tx: Executor,
  tenantId: string,
  messageId: string,
): Promise<DispatchTarget | null> {
  const res = await tx.execute<DispatchTarget>(sql`
    select m.id, m.direction, c.provider as channel_provider,
           case when m.provider = c.provider then m.provider_message_id else a.provider_message_id end
             as channel_message_id
      from messages m
      join conversations c on c.id = m.conversation_id and c.tenant_id = m.tenant_id
      left join message_aliases a on a.message_id = m.id and a.provider = c.provider
     where m.tenant_id = ${tenantId} and m.id = ${messageId}`);
  return res.rows[0] ?? null;
}

/** The message a provider id names in this tenant, as its own key or as an alias; null for none. */
export async function messageNamedBy(tx: Executor, k: MessageKey): Promise<string | null> {
  const res = await tx.execute<{ id: string | null }>(sql`
    select coalesce(
      (select id from messages
        where tenant_id = ${k.tenantId} and provider = ${k.provider} and provider_message_id = ${k.providerMessageId}),
      (select message_id from message_aliases
        where tenant_id = ${k.tenantId} and provider = ${k.provider} and provider_message_id = ${k.providerMessageId})
    ) as id`);
  return res.rows[0]?.id ?? null;
}

/**
 * Records `k` as the message's id at `k.provider`. False when the message already has an id at
 * that provider, or the id is taken: the unique indexes decide, so two concurrent dispatches of
 * one message cannot both record one.
 */
export async function insertAlias(tx: Executor, k: MessageKey, messageId: string, dispatchedAt: Date) {
  const rows = await tx
    .insert(schema.messageAliases)
    .values({ ...k, messageId, dispatchedAt })
    .onConflictDoNothing()
    .returning({ messageId: schema.messageAliases.messageId });
  return rows.length > 0;
}
