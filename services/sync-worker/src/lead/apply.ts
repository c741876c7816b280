import type { LeadTrigger } from '@switchboard/contracts';
import type { Executor, OutboxEntry } from '@switchboard/db';
import {
  decideLead,
  engagementScore,
  LEAD_TRANSITIONS,
  type LeadDecision,
  type LeadEvent,
  type LeadFacts,
  qualificationScore,
  type RuleResult,
  validateTransition,
} from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import type { Count } from '../metrics.ts';
import { findLead, type LeadRow, type LeadTransition, saveLead } from './store.ts';
import { advanceStage, enterState } from './transitions.ts';

/** One lead event and the facts it brings (counted into the journey before the rules read them). */
export interface LeadChange {
  event: LeadEvent;
  trigger: LeadTrigger;
  at: Date;
  /** What the event adds beyond the stored messages (which `findLead` counts itself). */
  facts?: {
    inbound?: { interest: boolean; purchase: boolean };
    open?: boolean;
    click?: boolean;
  };
  agentId?: string;
  qualificationSignals?: string[];
  /** The requester's context of an API transition, kept in the audit row and the state event. */
  metadata?: Record<string, unknown>;
  /**
   * Provider facts (an open, a reply) stay counted even when the state cannot move; a person's
   * request through the API that is refused changes nothing.
   */
  keepFactsOnReject: boolean;
}

export interface LeadOutcome {
  decision: LeadDecision;
  lead: LeadRow;
  outbox: OutboxEntry[];
  /** The event by its result, to count once the transaction commits. */
  counts: Count[];
}

/** The lead after the change's facts (signals, opens, clicks, agent, criteria) are counted; pure. */
export function withFacts(lead: LeadRow, c: LeadChange): LeadRow {
  const f = c.facts ?? {};
  const counters = { ...lead.counters };
  if (f.inbound?.interest) counters.interestSignals += 1;
  if (f.inbound?.purchase) counters.purchaseSignals += 1;
  if (f.open) counters.openCount += 1;
  if (f.click) counters.clickCount += 1;
  return {
    ...lead,
    counters,
    engagementScore: engagementScore(counters),
    qualificationScore: qualificationScore(counters),
    qualificationSignals: [...lead.qualificationSignals, ...(c.qualificationSignals ?? [])],
    agentId: c.agentId ?? lead.agentId,
  };
}

export const factsOf = (l: LeadRow, now: Date): LeadFacts => ({
  outboundCount: l.counters.outboundCount,
  inboundCount: l.counters.inboundCount,
  engagementScore: l.engagementScore,
  qualificationScore: l.qualificationScore,
  qualificationSignals: l.qualificationSignals,
  agentId: l.agentId,
  now,
  timeZone: l.timeZone,
});

/** What the change would do, without writing: the decision and every rule of the target state. */
export async function previewLeadEvent(
  tx: Executor,
  tenantId: string,
  conversationId: string,
  c: LeadChange,
): Promise<{ decision: LeadDecision; rules: RuleResult[]; lead: LeadRow } | null> {
  const lead = await findLead(tx, tenantId, conversationId, false);
  if (!lead) return null;
  const next = withFacts(lead, c);
  const decision = decideLead(lead.state, c.event, factsOf(next, c.at));
  const to = LEAD_TRANSITIONS[lead.state][c.event];
  return { decision, rules: to ? validateTransition(to, factsOf(next, c.at)) : [], lead };
}

/** How a lead event is counted: moved or absorbed (no change) when applied, else ignored or rejected. */
const leadResult = (d: LeadDecision) => (d.kind === 'apply' ? (d.changed ? 'moved' : 'absorbed') : d.kind);

/**
 * Applies a lead event in the caller's transaction: locks the lead row, counts the facts,
 * `decideLead`, and writes state, stage and audit rows (one statement) and returns the outbox
 * events for the caller's transaction. The worker's handlers and the API's transition route both
 * come through here.
 */
export async function applyLeadEvent(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  conversationId: string,
  c: LeadChange,
): Promise<LeadOutcome | null> {
  const lead = await findLead(tx, tenantId, conversationId, true);
  if (!lead) return null;
  const next = withFacts(lead, c);
  const decision = decideLead(lead.state, c.event, factsOf(next, c.at));
  const outbox: OutboxEntry[] = [];
  const counts: Count[] = [{ metric: 'leadEvents', labels: { event: c.event, result: leadResult(decision) } }];
  const moves: LeadTransition[] = [];
  switch (decision.kind) {
    case 'apply':
      if (decision.changed) outbox.push(enterState(moves, deps, next, decision, c));
      break;
    case 'ignore':
    case 'reject':
      if (!c.keepFactsOnReject) return { decision, lead, outbox: [], counts };
      break;
    default: {
      const never: never = decision;
      throw new Error(`unhandled lead decision ${JSON.stringify(never)}`);
    }
  }
  const staged = advanceStage(moves, deps, next, c);
  if (staged) outbox.push(staged);
  await saveLead(tx, next, c.at, moves);
  return { decision, lead: next, outbox, counts };
}
