import type { Executor } from '@switchboard/db';
import { baseSubject, normalizeSubject } from '@switchboard/domain';
import { sql } from 'drizzle-orm';

export interface EmailReplyHeaders {
  subject: string;
  /** The Message-ID replied to, without brackets; absent for a conversation without email. */
  inReplyTo?: string;
  /** Ancestors oldest first, ending with `inReplyTo`, without brackets (the sender adds them). */
  references: string[];
}

/** RFC 5322 lets a long References be trimmed; keep the root and the most recent ids. */
const MAX_REFERENCES = 20;

/**
 * The threading headers for our reply on an email conversation: In-Reply-To is the thread's
 * latest message, References its stored ancestors (root first) plus its own id, the subject
 * "Re: <base subject>". The outbound path calls this for `message.outbound.requested`; the
 * sender stores the reply's own Message-ID as its `provider_message_id`, so the customer's answer
 * threads back onto it.
 */
export async function emailReplyHeaders(
  tx: Executor,
  tenantId: string,
  conversationId: string,
): Promise<EmailReplyHeaders> {
  // The latest message by our clock (senders' Date headers disagree), then its stored ancestors:
  // the parent links rebuild a References that a client like Outlook truncated.
  const res = await tx.execute<{ message_id_header: string; subject: string | null; depth: number }>(sql`
    with recursive latest as (
      select em.message_id, em.parent_id, em.message_id_header, em.subject
        from email_messages em join messages m on m.id = em.message_id
       where em.tenant_id = ${tenantId} and em.conversation_id = ${conversationId}
       order by m.received_at desc, em.message_id desc
       limit 1
    ), chain as (
      select message_id, parent_id, message_id_header, subject, 0 as depth from latest
      union all
      select em.message_id, em.parent_id, em.message_id_header, em.subject, c.depth + 1
        from chain c join email_messages em on em.message_id = c.parent_id and em.tenant_id = ${tenantId}
       where c.depth < 1000
    )
    select message_id_header, subject, depth from chain order by depth desc`);
  const last = res.rows[res.rows.length - 1];
  if (!last) return { subject: '', references: [] };
  const refs = res.rows.map((r) => r.message_id_header);
  const trimmed = refs.length > MAX_REFERENCES ? [refs[0] as string, ...refs.slice(-(MAX_REFERENCES - 1))] : refs;
  const base = baseSubject(last.subject);
  return { subject: base ? `Re: ${base}` : 'Re:', inReplyTo: last.message_id_header, references: trimmed };
}

/** A Message-ID for an outbound email: the message's uuid at the tenant's Mailgun domain (no brackets). */
export const outboundMessageIdHeader = (messageId: string, mailgunDomain: string) => `${messageId}@${mailgunDomain}`;

/**
 * Records the threading row of our reply once the outbound path stored it as a `messages` row
 * (provider `mailgun`, `provider_message_id` = `messageIdHeader`), in the same transaction: its
 * parent is the message it replies to, so the customer's answer threads onto it and the lead
 * counts it. Nothing happens for a conversation of another tenant.
 */
export async function recordOutboundEmail(
  tx: Executor,
  r: {
    tenantId: string;
    conversationId: string;
    messageId: string;
    messageIdHeader: string;
    headers: EmailReplyHeaders;
    sentAt: Date;
  },
): Promise<void> {
  const inReplyTo = r.headers.inReplyTo ? [r.headers.inReplyTo] : [];
  await tx.execute(sql`
    insert into email_messages (message_id, tenant_id, conversation_id, customer_id, message_id_header, parent_id,
                                in_reply_to, "references", subject, normalized_subject, direction, sent_at)
    select ${r.messageId}, c.tenant_id, c.id, c.customer_id, ${r.messageIdHeader},
           (select p.message_id from email_messages p
             where p.conversation_id = c.id and p.message_id_header = ${r.headers.inReplyTo ?? null} limit 1),
           ${sql.param(inReplyTo)}::text[], ${sql.param(r.headers.references)}::text[], ${r.headers.subject},
           ${normalizeSubject(r.headers.subject)}, 'outbound', ${r.sentAt.toISOString()}
      from conversations c where c.id = ${r.conversationId} and c.tenant_id = ${r.tenantId}
    on conflict (message_id) do nothing`);
}
