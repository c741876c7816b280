import type { MessageOutboundRequested } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import { type EmailReplyHeaders, emailReplyHeaders, outboundMessageIdHeader } from '../store/email-reply.ts';
import type { OutboundConversation } from '../store/outbound.ts';

/** Where the downstream sender delivers a reply on this conversation, or why it cannot. */
export async function recipient(
  tx: Executor,
  c: OutboundConversation,
  messageId: string,
): Promise<
  | { to: string; toUserId?: string; email?: MessageOutboundRequested['email']; headers?: EmailReplyHeaders }
  | { reject: string }
> {
  if (c.provider === 'whatsapp') {
    // A customer with a username and no shared number is addressed by their business-scoped user id.
    const userId = c.whatsapp_user_id ? { toUserId: c.whatsapp_user_id } : {};
    const to = c.whatsapp_id ?? c.phone_e164?.replace(/^\+/, '') ?? c.whatsapp_user_id;
    return to ? { to, ...userId } : { reject: `no_recipient: customer ${c.customer_id} has no WhatsApp id` };
  }
  if (c.provider === 'mailgun') {
    if (!c.email) return { reject: `no_recipient: customer ${c.customer_id} has no email address` };
    const h = await emailReplyHeaders(tx, c.tenant_id, c.id);
    return {
      to: c.email,
      headers: h,
      email: {
        subject: h.subject,
        messageIdHeader: outboundMessageIdHeader(messageId, c.account_id),
        ...(h.inReplyTo ? { inReplyTo: h.inReplyTo } : {}),
        references: h.references,
      },
    };
  }
  return { reject: `unsupported_channel: conversation ${c.id} is on ${c.provider}` };
}
