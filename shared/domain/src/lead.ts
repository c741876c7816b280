/** A lead's states and the events that move it (seed 003); lead-state.ts holds the moves. */
export const LEAD_STATES = [
  'NEW',
  'ACTIVE',
  'ENGAGED',
  'QUALIFIED',
  'READY_FOR_HANDOVER',
  'HANDED_OVER',
  'CLOSED',
  'ARCHIVED',
] as const;
export type LeadState = (typeof LEAD_STATES)[number];

export const LEAD_EVENTS = [
  'FIRST_EMAIL_SENT',
  'LEAD_REPLIED',
  'ENGAGEMENT_INCREASED',
  'QUALIFICATION_CRITERIA_MET',
  'HANDOVER_REQUESTED',
  'HUMAN_AGENT_ASSIGNED',
  'CONVERSATION_COMPLETED',
  'CONVERSATION_ABANDONED',
  'MANUAL_ARCHIVE',
] as const;
export type LeadEvent = (typeof LEAD_EVENTS)[number];
