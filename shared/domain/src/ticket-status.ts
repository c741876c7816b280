import type { ConversationStatus } from './conversation-status.ts';

/**
 * Ticket status (seed 000), the helpdesk's workflow: `new` (nobody looked yet), `open` (someone
 * owns it), `in_progress` (being worked), `pending_customer` (waiting on the customer),
 * `waiting_internal` (waiting on another team), `resolved` (answer given), `closed` (done).
 */
export const TICKET_STATUSES = [
  'new',
  'open',
  'in_progress',
  'pending_customer',
  'waiting_internal',
  'resolved',
  'closed',
] as const;
export type TicketStatus = (typeof TICKET_STATUSES)[number];

/**
 * The legal ticket transitions. Work moves freely among the working states; `resolved` can be
 * closed or reopened (to `open` or `in_progress`) when the customer says it isn't; `closed`
 * reopens only to `open`, so a reopened ticket is owned again before work resumes. Nothing goes
 * back to `new`: a ticket someone has seen is never unseen. Staying in a status is not a
 * transition (a no-op, never rejected).
 */
export const TICKET_TRANSITIONS: Readonly<Record<TicketStatus, readonly TicketStatus[]>> = {
  new: ['open', 'in_progress', 'pending_customer', 'waiting_internal', 'resolved', 'closed'],
  open: ['in_progress', 'pending_customer', 'waiting_internal', 'resolved', 'closed'],
  in_progress: ['open', 'pending_customer', 'waiting_internal', 'resolved', 'closed'],
  pending_customer: ['open', 'in_progress', 'waiting_internal', 'resolved', 'closed'],
  waiting_internal: ['open', 'in_progress', 'pending_customer', 'resolved', 'closed'],
  resolved: ['open', 'in_progress', 'closed'],
  closed: ['open'],
};

export const canMoveTicket = (from: TicketStatus, to: TicketStatus) => TICKET_TRANSITIONS[from].includes(to);

/**
 * The legal conversation transitions: `open` ⇄ `active`, either to `closed`, and `closed` is
 * final (a customer who writes again gets a new conversation).
 */
export const CONVERSATION_TRANSITIONS: Readonly<Record<ConversationStatus, readonly ConversationStatus[]>> = {
  open: ['active', 'closed'],
  active: ['open', 'closed'],
  closed: [],
};

export const canMoveConversation = (from: ConversationStatus, to: ConversationStatus) =>
  CONVERSATION_TRANSITIONS[from].includes(to);
