import { TICKET_STATUSES } from '@switchboard/domain';
import { z } from 'zod';

/**
 * Canonical inbound events from the helpdesk, published by `services/webhooks` on
 * `switchboard.inbound`. `accountId` names the helpdesk instance, registered as a channel with
 * provider `helpdesk`; `ticketId` is the helpdesk's own ticket id, unique per tenant.
 */
export const HelpdeskTicketChanged = z.object({
  provider: z.literal('helpdesk'),
  accountId: z.string().min(1),
  /** The helpdesk's id for the delivery; the CloudEvents id is derived from it. */
  helpdeskEventId: z.string().min(1),
  at: z.iso.datetime({ offset: true }),
  action: z.enum(['created', 'status_changed', 'assigned']),
  ticketId: z.string().min(1).max(200),
  /** The Switchboard conversation the ticket is about. */
  conversationId: z.uuid(),
  /** The ticket's status after the change; absent on `assigned`, which may leave it as it is. */
  status: z.enum(TICKET_STATUSES).optional(),
  assignee: z.string().min(1).max(200).optional(),
  changedBy: z.string().min(1).max(200).optional(),
  reason: z.string().max(1000).optional(),
  subject: z.string().max(1000).optional(),
});
export type HelpdeskTicketChanged = z.infer<typeof HelpdeskTicketChanged>;

export const helpdeskRoutingKeys = { ticketChanged: 'helpdesk.ticket.changed' } as const;
