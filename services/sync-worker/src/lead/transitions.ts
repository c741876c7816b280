import type { LeadTrigger } from '@switchboard/contracts';
import type { OutboxEntry } from '@switchboard/db';
import {
  type LeadDecision,
  type LeadEvent,
  type LeadState,
  milestonesDue,
  nextStage,
  STAGE_MILESTONE,
  STAGE_PROGRESS,
} from '@switchboard/domain';
import type { Deps } from '../deps.ts';
import { domainEvent } from '../handlers/events.ts';
import type { LeadRow, LeadTransition } from './store.ts';

/**
 * The two moves a lead event can make, each written as an audit row (`lead_transitions`) and an
 * event in the caller's transaction: the lead's state (the state machine), and its journey stage
 * (which follows from the state and the counters, forward only). The audit rows are appended to
 * `moves`, which `saveLeads` writes with the lead.
 */

export interface TransitionCause {
  event: LeadEvent;
  trigger: LeadTrigger;
  at: Date;
  metadata?: Record<string, unknown>;
}

type Moved = Extract<LeadDecision, { kind: 'apply' }>;

const triggeredBy = (c: TransitionCause) => `${c.trigger.kind}:${c.trigger.id}`;

/** Who the lead's handover is with once it enters `to`: requested when ready, assigned when handed over. */
function handoverOf(to: LeadState, agentId: string | null) {
  if (to === 'READY_FOR_HANDOVER') return { handover: { status: 'requested' as const } };
  if (to === 'HANDED_OVER') return { handover: { status: 'assigned' as const, ...(agentId ? { agentId } : {}) } };
  return {};
}

/** Moves `lead` into the decided state (in place, for the save that follows) and returns its event. */
export function enterState(
  moves: LeadTransition[],
  deps: Pick<Deps, 'names' | 'now'>,
  lead: LeadRow,
  decision: Moved,
  c: TransitionCause,
): OutboxEntry {
  const meta = { tenantId: lead.tenantId, conversationId: lead.conversationId };
  const warnings = decision.warnings.map((w) => ({ rule: w.rule, message: w.message }));
  lead.state = decision.to;
  lead.stateEnteredAt = c.at;
  moves.push({
    ...meta,
    kind: 'state',
    event: c.event,
    from: decision.from,
    to: decision.to,
    triggeredBy: triggeredBy(c),
    warnings,
    metadata: c.metadata ?? {},
    at: c.at,
  });
  return domainEvent(deps, 'conversation.state.changed', meta, {
    conversationId: lead.conversationId,
    customerId: lead.customerId,
    previousState: decision.from,
    state: decision.to,
    event: c.event,
    triggeredBy: c.trigger,
    warnings,
    ...handoverOf(decision.to, lead.agentId),
    ...(c.metadata ? { metadata: c.metadata } : {}),
    at: c.at.toISOString(),
  });
}

/**
 * Moves `lead` to the journey stage its state and counters now reach (in place), earning each
 * milestone due on the way (`milestonesDue`); returns its event, or null when the stage stays.
 */
export function advanceStage(
  moves: LeadTransition[],
  deps: Pick<Deps, 'names' | 'now'>,
  lead: LeadRow,
  c: TransitionCause,
): OutboxEntry | null {
  const stage = nextStage(lead.stage, lead.state, lead.counters);
  const due = milestonesDue(
    stage,
    lead.counters,
    lead.milestones.map((m) => m.milestone),
  );
  lead.milestones = [
    ...lead.milestones,
    ...due.map((s) => ({ milestone: STAGE_MILESTONE[s], stage: s, at: c.at.toISOString() })),
  ];
  // FIRST_CONTACT can fall due while the lead stays cold: kept on the row (and in the next
  // lead.stage.changed), with no stage event of its own, since no stage changed.
  if (stage === lead.stage) return null;
  const meta = { tenantId: lead.tenantId, conversationId: lead.conversationId };
  const kind = 'stage';
  moves.push({
    ...meta,
    kind,
    event: c.event,
    from: lead.stage,
    to: stage,
    triggeredBy: triggeredBy(c),
    warnings: [],
    metadata: {},
    at: c.at,
  });
  const event = domainEvent(deps, 'lead.stage.changed', meta, {
    conversationId: lead.conversationId,
    customerId: lead.customerId,
    previousStage: lead.stage,
    stage,
    progress: STAGE_PROGRESS[stage],
    engagementScore: lead.engagementScore,
    qualificationScore: lead.qualificationScore,
    milestones: due.map((s) => STAGE_MILESTONE[s]),
    at: c.at.toISOString(),
  });
  lead.stage = stage;
  lead.stageEnteredAt = c.at;
  return event;
}
