import type { LeadEvent, LeadState } from './lead.ts';
import { type LeadFacts, type RuleResult, validateTransition } from './lead-validation.ts';

/**
 * The lead conversation state machine (seed 003): eight states, nine events. `decideLead` is the
 * only place a lead's state changes; the worker and the API both call it.
 */
const LIVE: readonly LeadState[] = ['NEW', 'ACTIVE', 'ENGAGED', 'QUALIFIED', 'READY_FOR_HANDOVER', 'HANDED_OVER'];

/**
 * Moves: state → event → next state. A lead that writes first (an inbound lead) goes from NEW
 * straight to ENGAGED. Any live state can be abandoned.
 */
export const LEAD_TRANSITIONS: Readonly<Record<LeadState, Partial<Record<LeadEvent, LeadState>>>> = {
  NEW: { FIRST_EMAIL_SENT: 'ACTIVE', LEAD_REPLIED: 'ENGAGED', CONVERSATION_ABANDONED: 'CLOSED' },
  ACTIVE: { LEAD_REPLIED: 'ENGAGED', CONVERSATION_ABANDONED: 'CLOSED' },
  ENGAGED: { QUALIFICATION_CRITERIA_MET: 'QUALIFIED', CONVERSATION_ABANDONED: 'CLOSED' },
  QUALIFIED: { HANDOVER_REQUESTED: 'READY_FOR_HANDOVER', CONVERSATION_ABANDONED: 'CLOSED' },
  READY_FOR_HANDOVER: { HUMAN_AGENT_ASSIGNED: 'HANDED_OVER', CONVERSATION_ABANDONED: 'CLOSED' },
  HANDED_OVER: { CONVERSATION_COMPLETED: 'CLOSED', CONVERSATION_ABANDONED: 'CLOSED' },
  CLOSED: { MANUAL_ARCHIVE: 'ARCHIVED' },
  ARCHIVED: {},
};

/**
 * Events that change no state but are still facts about the lead (counted for its scores): more
 * engagement while live, another outbound email once the first went, another reply once engaged.
 */
export function absorbs(state: LeadState, event: LeadEvent): boolean {
  if (!LIVE.includes(state)) return false;
  const rank = LIVE.indexOf(state);
  switch (event) {
    case 'ENGAGEMENT_INCREASED':
      return true;
    case 'FIRST_EMAIL_SENT':
      return rank >= LIVE.indexOf('ACTIVE');
    case 'LEAD_REPLIED':
      return rank >= LIVE.indexOf('ENGAGED');
    default:
      return false;
  }
}

export type LeadDecision =
  | { kind: 'apply'; from: LeadState; to: LeadState; changed: boolean; warnings: RuleResult[] }
  | { kind: 'ignore'; reason: 'terminal' }
  | { kind: 'reject'; reason: 'illegal_transition'; from: LeadState; event: LeadEvent }
  | { kind: 'reject'; reason: 'validation_failed'; from: LeadState; to: LeadState; failures: RuleResult[] };

/**
 * Decides what `event` does to a lead in `state`, given the facts the validation rules read.
 * Provider facts (engagement, a reply, another email) on a closed lead are ignored rather than
 * rejected: they are true, just too late to move anything.
 */
export function decideLead(state: LeadState, event: LeadEvent, facts: LeadFacts): LeadDecision {
  const to = LEAD_TRANSITIONS[state][event];
  if (to === undefined) {
    if (absorbs(state, event)) return { kind: 'apply', from: state, to: state, changed: false, warnings: [] };
    if ((state === 'CLOSED' || state === 'ARCHIVED') && isProviderFact(event))
      return { kind: 'ignore', reason: 'terminal' };
    return { kind: 'reject', reason: 'illegal_transition', from: state, event };
  }
  const results = validateTransition(to, facts);
  const failures = results.filter((r) => !r.passed && r.severity === 'required');
  if (failures.length > 0) return { kind: 'reject', reason: 'validation_failed', from: state, to, failures };
  return { kind: 'apply', from: state, to, changed: true, warnings: results.filter((r) => !r.passed) };
}

const isProviderFact = (e: LeadEvent) =>
  e === 'ENGAGEMENT_INCREASED' || e === 'FIRST_EMAIL_SENT' || e === 'LEAD_REPLIED';
