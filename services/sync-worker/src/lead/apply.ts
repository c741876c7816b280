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
import { findLead, findLeads, type LeadRow, type LeadSave, type LeadTransition, saveLeads } from './store.ts';
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

/** What a lead event does to a lead read under its row lock: the outcome, and what to write (null: nothing). */
export interface LeadStep {
  outcome: LeadOutcome;
  save: LeadSave | null;
}

/**
 * A lead event against a lead already read under its row lock: counts the facts, `decideLead`,
 * moves state and stage in memory, and says what to write (state, stage and audit rows) and which
 * events to append; pure. A refused request of a person (`keepFactsOnReject` false) writes nothing.
 */
export function stepLead(deps: Pick<Deps, 'names' | 'now'>, lead: LeadRow, c: LeadChange): LeadStep {
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
      if (!c.keepFactsOnReject) return { outcome: { decision, lead, outbox: [], counts }, save: null };
      break;
    default: {
      const never: never = decision;
      throw new Error(`unhandled lead decision ${JSON.stringify(never)}`);
    }
  }
  const staged = advanceStage(moves, deps, next, c);
  if (staged) outbox.push(staged);
  return { outcome: { decision, lead: next, outbox, counts }, save: { lead: next, at: c.at, transitions: moves } };
}

/**
 * Applies a lead event in the caller's transaction: locks the lead row, `stepLead`, and writes
 * state, stage and audit rows (one statement) and returns the outbox events for the caller's
 * transaction. The worker's handlers and the API's transition route both come through here.
 */
export async function applyLeadEvent(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  conversationId: string,
  c: LeadChange,
): Promise<LeadOutcome | null> {
  return (await applyLeadEvents(tx, deps, tenantId, [{ conversationId, change: c }]))[0] ?? null;
}

/**
 * `applyLeadEvent` for several leads at once, each conversation at most once: every lead read and
 * row-locked in one statement (in conversation id order), each event stepped in memory, every
 * lead written in one statement. One outcome per change, in order; null where the conversation
 * has no lead. The result is the same as applying them one after another, since no two share a lead.
 */
export async function applyLeadEvents(
  tx: Executor,
  deps: Pick<Deps, 'names' | 'now'>,
  tenantId: string,
  changes: Array<{ conversationId: string; change: LeadChange }>,
): Promise<Array<LeadOutcome | null>> {
  const ids = changes.map((c) => c.conversationId);
  if (new Set(ids).size !== ids.length) throw new Error('a lead may change once per applyLeadEvents');
  const leads = new Map((await findLeads(tx, tenantId, ids, true)).map((l) => [l.conversationId, l]));
  const steps = changes.map(({ conversationId, change }) => {
    const lead = leads.get(conversationId);
    return lead ? stepLead(deps, lead, change) : null;
  });
  await saveLeads(
    tx,
    steps.flatMap((s) => (s?.save ? [s.save] : [])),
  );
  return steps.map((s) => s?.outcome ?? null);
}
