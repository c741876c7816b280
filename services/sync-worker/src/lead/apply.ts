import type { LeadTrigger } from '@switchboard/contracts';
import type { Executor, OutboxEntry } from '@switchboard/db';
import {
  decideLead,
  engagementScore,
  LEAD_TRANSITIONS,
  type LeadDecision,
  type LeadEvent,
  type LeadFacts,
  nextStage,
  qualificationScore,
  type RuleResult,
  STAGE_MILESTONE,
  STAGE_PROGRESS,
  stagesBetween,
  validateTransition,
} from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import { domainEvent } from '../handlers/events.ts';
import type { Count } from '../metrics.ts';
import { findLead, type LeadRow, recordLeadTransition, saveLead } from './store.ts';

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

/**
 * Applies a lead event in the caller's transaction: locks the lead row, counts the facts,
 * `decideLead`, and writes state, stage, audit rows and outbox events together. The worker's
 * handlers and the API's transition route both come through here.
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
  const meta = { tenantId, conversationId };
  const outbox: OutboxEntry[] = [];
  const by = `${c.trigger.kind}:${c.trigger.id}`;
  const counted = (result: string): Count[] => [{ metric: 'leadEvents', labels: { event: c.event, result } }];
  let counts: Count[];
  switch (decision.kind) {
    case 'apply':
      if (decision.changed) {
        next.state = decision.to;
        next.stateEnteredAt = c.at;
        const warnings = decision.warnings.map((w) => ({ rule: w.rule, message: w.message }));
        await recordLeadTransition(tx, {
          ...meta,
          kind: 'state',
          event: c.event,
          from: decision.from,
          to: decision.to,
          triggeredBy: by,
          warnings,
          at: c.at,
        });
        const handover =
          decision.to === 'READY_FOR_HANDOVER'
            ? { handover: { status: 'requested' as const } }
            : decision.to === 'HANDED_OVER'
              ? { handover: { status: 'assigned' as const, ...(next.agentId ? { agentId: next.agentId } : {}) } }
              : {};
        outbox.push(
          domainEvent(deps, 'conversation.state.changed', meta, {
            conversationId,
            customerId: lead.customerId,
            previousState: decision.from,
            state: decision.to,
            event: c.event,
            triggeredBy: c.trigger,
            warnings,
            ...handover,
            at: c.at.toISOString(),
          }),
        );
      }
      counts = counted(decision.changed ? 'moved' : 'absorbed');
      break;
    case 'ignore':
    case 'reject':
      counts = counted(decision.kind);
      if (!c.keepFactsOnReject) return { decision, lead, outbox: [], counts };
      break;
    default: {
      const never: never = decision;
      throw new Error(`unhandled lead decision ${JSON.stringify(never)}`);
    }
  }
  const stage = nextStage(next.stage, next.state, next.counters);
  if (stage !== next.stage) {
    const passed = stagesBetween(next.stage, stage);
    next.milestones = [
      ...next.milestones,
      ...passed.map((s) => ({ milestone: STAGE_MILESTONE[s], stage: s, at: c.at.toISOString() })),
    ];
    await recordLeadTransition(tx, {
      ...meta,
      kind: 'stage',
      event: c.event,
      from: next.stage,
      to: stage,
      triggeredBy: by,
      warnings: [],
      at: c.at,
    });
    outbox.push(
      domainEvent(deps, 'lead.stage.changed', meta, {
        conversationId,
        customerId: lead.customerId,
        previousStage: next.stage,
        stage,
        progress: STAGE_PROGRESS[stage],
        engagementScore: next.engagementScore,
        qualificationScore: next.qualificationScore,
        milestones: passed.map((s) => STAGE_MILESTONE[s]),
        at: c.at.toISOString(),
      }),
    );
    next.stage = stage;
    next.stageEnteredAt = c.at;
  }
  await saveLead(tx, next, c.at);
  return { decision, lead: next, outbox, counts };
}
