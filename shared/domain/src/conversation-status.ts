/**
 * Conversation status (seed 000): `open` while AI-handled or unassigned, `active` while an agent
 * works it, `closed` when it ended. A closed conversation is never reopened by a new customer
 * message; the message opens a new conversation instead.
 */
export const CONVERSATION_STATUSES = ['open', 'active', 'closed'] as const;
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
