import type { Executor } from '@switchboard/db';
import type { JourneyCounters, JourneyStage, LeadState } from '@switchboard/domain';
import { sql } from 'drizzle-orm';

/** A lead journey row with its tenant's time zone, read for update (row lock = the fencing order). */
export interface LeadRow {
  conversationId: string;
  tenantId: string;
  customerId: string;
  timeZone: string;
  state: LeadState;
  stateEnteredAt: Date;
  stage: JourneyStage;
  stageEnteredAt: Date;
  counters: JourneyCounters;
  firstOutboundAt: Date | null;
  firstReplyAt: Date | null;
  engagementScore: number;
  qualificationScore: number;
  qualificationSignals: string[];
  milestones: Array<{ milestone: string; stage: string; at: string }>;
  agentId: string | null;
  version: number;
}

type Raw = Record<string, unknown> & {
  conversation_id: string;
  tenant_id: string;
  customer_id: string;
  time_zone: string;
  state: LeadState;
  stage: JourneyStage;
};

/** Hours from the first outbound email to the first reply; clocks differ, so a reply a moment "before" counts as 0. */
export const replyHours = (firstOutboundAt: Date | null, firstReplyAt: Date | null) =>
  firstOutboundAt && firstReplyAt
    ? Math.max(0, (firstReplyAt.getTime() - firstOutboundAt.getTime()) / 3_600_000)
    : null;

const date = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

function toRow(r: Raw): LeadRow {
  const firstOutboundAt = date(r.first_outbound_at);
  const firstReplyAt = date(r.first_reply_at);
  return {
    conversationId: r.conversation_id,
    tenantId: r.tenant_id,
    customerId: r.customer_id,
    timeZone: r.time_zone,
    state: r.state,
    stateEnteredAt: date(r.state_entered_at) as Date,
    stage: r.stage,
    stageEnteredAt: date(r.stage_entered_at) as Date,
    counters: {
      outboundCount: Number(r.outbound_count),
      inboundCount: Number(r.inbound_count),
      openCount: Number(r.open_count),
      clickCount: Number(r.click_count),
      interestSignals: Number(r.interest_signals),
      purchaseSignals: Number(r.purchase_signals),
      firstReplyHours: replyHours(firstOutboundAt, firstReplyAt),
    },
    firstOutboundAt,
    firstReplyAt,
    engagementScore: Number(r.engagement_score),
    qualificationScore: Number(r.qualification_score),
    qualificationSignals: r.qualification_signals as string[],
    milestones: r.milestones as LeadRow['milestones'],
    agentId: (r.agent_id as string | null) ?? null,
    version: Number(r.version),
  };
}

/** The lead of a conversation in this tenant; `forUpdate` locks the row until the transaction ends. */
export async function findLead(
  tx: Executor,
  tenantId: string,
  conversationId: string,
  forUpdate: boolean,
): Promise<LeadRow | null> {
  // Message counts and first times come from the thread itself, whoever stored its messages
  // (this worker, or the outbound path for our replies); the row's copies are a snapshot.
  const res = await tx.execute<Raw>(sql`
    select l.*, t.time_zone, m.outbound_count, m.inbound_count, m.first_outbound_at, m.first_reply_at
      from lead_journeys l join tenants t on t.id = l.tenant_id,
      lateral (select count(*) filter (where em.direction = 'outbound') as outbound_count,
                      count(*) filter (where em.direction = 'inbound') as inbound_count,
                      min(em.sent_at) filter (where em.direction = 'outbound') as first_outbound_at,
                      min(em.sent_at) filter (where em.direction = 'inbound') as first_reply_at
                 from email_messages em where em.conversation_id = l.conversation_id) m
     where l.conversation_id = ${conversationId} and l.tenant_id = ${tenantId}
     ${forUpdate ? sql`for update of l` : sql``}`);
  const r = res.rows[0];
  return r ? toRow(r) : null;
}

/** An audit row of a lead's move (`lead_transitions`), written with the lead it moved. */
export interface LeadTransition {
  tenantId: string;
  conversationId: string;
  kind: 'state' | 'stage';
  event: string | null;
  from: string;
  to: string;
  triggeredBy: string;
  warnings: unknown[];
  metadata: Record<string, unknown>;
  at: Date;
}

/**
 * Writes the lead back, guarded by the version read under the row lock, and the audit rows of its
 * moves (in their order), in one statement: nothing is written unless the guard holds.
 */
export async function saveLead(tx: Executor, l: LeadRow, at: Date, transitions: LeadTransition[] = []): Promise<void> {
  const rows = transitions.map((t) => ({ ...t, at: t.at.toISOString() }));
  const res = await tx.execute<{ saved: number }>(sql`
    with saved as (
      update lead_journeys set
        state = ${l.state}, state_entered_at = ${l.stateEnteredAt.toISOString()},
        stage = ${l.stage}, stage_entered_at = ${l.stageEnteredAt.toISOString()},
        outbound_count = ${l.counters.outboundCount}, inbound_count = ${l.counters.inboundCount},
        open_count = ${l.counters.openCount}, click_count = ${l.counters.clickCount},
        interest_signals = ${l.counters.interestSignals}, purchase_signals = ${l.counters.purchaseSignals},
        first_outbound_at = ${l.firstOutboundAt?.toISOString() ?? null}, first_reply_at = ${l.firstReplyAt?.toISOString() ?? null},
        engagement_score = ${l.engagementScore}, qualification_score = ${l.qualificationScore},
        qualification_signals = ${JSON.stringify(l.qualificationSignals)}::jsonb,
        milestones = ${JSON.stringify(l.milestones)}::jsonb,
        agent_id = ${l.agentId}, version = version + 1, updated_at = ${at.toISOString()}
       where conversation_id = ${l.conversationId} and version = ${l.version}
      returning 1
    ), moved as (
      insert into lead_transitions (tenant_id, conversation_id, kind, event, from_value, to_value, triggered_by, warnings, metadata, at)
      select (r->>'tenantId')::uuid, (r->>'conversationId')::uuid, r->>'kind', r->>'event', r->>'from', r->>'to',
             r->>'triggeredBy', r->'warnings', r->'metadata', (r->>'at')::timestamptz
        from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) with ordinality as e(r, n)
       where exists (select 1 from saved)
       order by n
    )
    select count(*)::int as saved from saved`);
  if (Number(res.rows[0]?.saved) !== 1) throw new Error(`lead ${l.conversationId} changed under its row lock`);
}
