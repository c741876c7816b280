import { CHANGE_SOURCES, CONVERSATION_STATUSES, TICKET_STATUSES } from '@switchboard/domain';
import { z } from 'zod';

/**
 * Status-sync domain events (seed 000). Each says what changed (previous and new status), who or
 * what changed it and why, the event that caused it (`causeEventId`, the inbound CloudEvents id),
 * whether it was an automatic follow-up of the other side (`syncedFrom`), and the entity's
 * version after the change, so a consumer can drop anything older than what it has seen.
 */
const change = {
  source: z.enum(CHANGE_SOURCES),
  changedBy: z.string().optional(),
  reason: z.string().optional(),
  causeEventId: z.uuid(),
  version: z.number().int().positive(),
  at: z.iso.datetime({ offset: true }),
};

export const ConversationStatusChanged = z.object({
  conversationId: z.uuid(),
  previousStatus: z.enum(CONVERSATION_STATUSES),
  status: z.enum(CONVERSATION_STATUSES),
  /** `ticket` when the change followed a ticket's change; null when it was asked for. */
  syncedFrom: z.enum(['ticket']).nullable(),
  ...change,
});
export type ConversationStatusChanged = z.infer<typeof ConversationStatusChanged>;

export const TicketStatusChanged = z.object({
  ticketId: z.uuid(),
  /** The helpdesk's id for the ticket. */
  externalTicketId: z.string(),
  conversationId: z.uuid(),
  /** null when this change created the ticket. */
  previousStatus: z.enum(TICKET_STATUSES).nullable(),
  status: z.enum(TICKET_STATUSES),
  /** `conversation` when the change followed the conversation's change; null when it was asked for. */
  syncedFrom: z.enum(['conversation']).nullable(),
  ...change,
});
export type TicketStatusChanged = z.infer<typeof TicketStatusChanged>;

/** Every ticket is resolved (or resolved and closed): a person should decide whether to close. */
export const ConversationCloseSuggested = z.object({
  conversationId: z.uuid(),
  reason: z.string(),
  ticketCount: z.number().int().positive(),
  resolvedCount: z.number().int().min(0),
  closedCount: z.number().int().min(0),
  causeEventId: z.uuid(),
  at: z.iso.datetime({ offset: true }),
});
export type ConversationCloseSuggested = z.infer<typeof ConversationCloseSuggested>;
