import type { Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';

/**
 * A customer merge's conversations, the SQL: which live conversations of the absorbed customers
 * meet a live one of the survivor, and the moves. Rows out; the handler decides and closes.
 */

const p = (v: unknown[]) => sql.param(v);

/**
 * Folds the absorbed customers into the survivor: their user ids move, the fields the survivor
 * lacks are taken from them (oldest first), and each is marked merged, its own ids cleared so the
 * unique indexes hold. Forward-only: a customer already merged is never touched again.
 */
export async function mergeCustomerRows(
  tx: Executor,
  tenantId: string,
  survivorId: string,
  absorbedIds: string[],
): Promise<void> {
  await tx.execute(sql`
    update customer_whatsapp_user_ids set customer_id = ${survivorId}
     where tenant_id = ${tenantId} and customer_id = any(${p(absorbedIds)}::uuid[])`);
  const taken = await tx.execute<Record<string, string | null>>(sql`
    with gone as (
      select id, phone_e164, whatsapp_id, whatsapp_parent_user_id, whatsapp_username, email, name, created_at
        from customers where tenant_id = ${tenantId} and id = any(${p(absorbedIds)}::uuid[]) and merged_into is null
    ), cleared as (
      update customers c set merged_into = ${survivorId}, phone_e164 = null, whatsapp_id = null, whatsapp_user_id = null,
             whatsapp_parent_user_id = null, whatsapp_username = null, email = null, updated_at = now()
        from gone where c.id = gone.id
      returning c.id
    )
    select (array_agg(phone_e164 order by created_at, id) filter (where phone_e164 is not null))[1] as phone,
           (array_agg(whatsapp_id order by created_at, id) filter (where whatsapp_id is not null))[1] as wa_id,
           (array_agg(whatsapp_parent_user_id order by created_at, id) filter (where whatsapp_parent_user_id is not null))[1] as parent,
           (array_agg(whatsapp_username order by created_at, id) filter (where whatsapp_username is not null))[1] as username,
           (array_agg(email order by created_at, id) filter (where email is not null))[1] as email,
           (array_agg(name order by created_at, id) filter (where name is not null))[1] as name,
           (select count(*) from cleared) as n
      from gone`);
  const t = taken.rows[0] ?? {};
  // The absorbed rows gave their ids up in the statement above, so the survivor may take them now.
  await tx.execute(sql`
    update customers set
      phone_e164 = coalesce(phone_e164, ${t.phone ?? null}::text),
      whatsapp_id = coalesce(whatsapp_id, ${t.wa_id ?? null}::text),
      whatsapp_parent_user_id = coalesce(whatsapp_parent_user_id, ${t.parent ?? null}::text),
      whatsapp_username = coalesce(whatsapp_username, ${t.username ?? null}::text),
      email = coalesce(email, ${t.email ?? null}::text),
      name = coalesce(name, ${t.name ?? null}::text),
      updated_at = now()
     where id = ${survivorId}`);
}

export type MovableConversation = {
  id: string;
  channel_id: string;
  /** The survivor's live conversation on the same channel, if it has one. */
  survivor_live_id: string | null;
};

/**
 * The absorbed customers' live chat conversations, each with the survivor's live conversation on
 * its channel (if any), row-locked: the ones the survivor already has a live one for are closed
 * into it; the others simply move.
 */
export async function lockLiveConversationsOf(
  tx: Executor,
  tenantId: string,
  survivorId: string,
  absorbedIds: string[],
): Promise<MovableConversation[]> {
  const res = await tx.execute<MovableConversation>(sql`
    select c.id, c.channel_id,
           (select s.id from conversations s
             where s.tenant_id = c.tenant_id and s.channel_id = c.channel_id and s.customer_id = ${survivorId}
               and s.status <> 'closed' and s.provider <> 'mailgun' limit 1) as survivor_live_id
      from conversations c
     where c.tenant_id = ${tenantId} and c.customer_id = any(${p(absorbedIds)}::uuid[])
       and c.status <> 'closed' and c.provider <> 'mailgun'
     order by c.id
       for update`);
  return res.rows;
}

/** A conversation's messages and calls, moved to another conversation of the same tenant. */
export async function moveConversationContent(tx: Executor, tenantId: string, fromId: string, toId: string) {
  await tx.execute(sql`
    update messages set conversation_id = ${toId} where tenant_id = ${tenantId} and conversation_id = ${fromId}`);
  await tx.execute(sql`
    update conversation_calls set conversation_id = ${toId}, updated_at = now()
     where tenant_id = ${tenantId} and conversation_id = ${fromId}`);
}

/** Every conversation of the absorbed customers becomes the survivor's (the conflicting live ones are closed first). */
export async function reassignConversations(tx: Executor, tenantId: string, survivorId: string, absorbedIds: string[]) {
  await tx.execute(sql`
    update conversations set customer_id = ${survivorId}, version = version + 1
     where tenant_id = ${tenantId} and customer_id = any(${p(absorbedIds)}::uuid[])`);
}
