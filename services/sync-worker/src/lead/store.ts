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
  return (await findLeads(tx, tenantId, [conversationId], forUpdate))[0] ?? null;
}

/**
 * The leads of these conversations in this tenant, by conversation id (absent ones left out), in
 * one statement; `forUpdate` locks their rows in conversation id order, so two transactions that
 * lock several leads never wait on each other in a cycle.
 */
export async function findLeads(
  tx: Executor,
  tenantId: string,
  conversationIds: string[],
  forUpdate: boolean,
): Promise<LeadRow[]> {
  if (conversationIds.length === 0) return [];
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
     where l.conversation_id = any(${sql.param(conversationIds)}::uuid[]) and l.tenant_id = ${tenantId}
     order by l.conversation_id
     ${forUpdate ? sql`for update of l` : sql``}`);
  return res.rows.map(toRow);
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

/** A lead to write back (`saveLeads`): as changed in memory, with the audit rows of its moves. */
export interface LeadSave {
  lead: LeadRow;
  at: Date;
  transitions: LeadTransition[];
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * Writes the leads back, each guarded by the version read under its row lock, and the audit rows
 * of their moves (in their order), in one statement: nothing is written unless every guard holds.
 * Each lead at most once.
 */
export async function saveLeads(tx: Executor, saves: LeadSave[]): Promise<void> {
  if (saves.length === 0) return;
  const leads = saves.map(({ lead: l, at }) => ({
    conversation_id: l.conversationId,
    version: l.version,
    state: l.state,
    state_entered_at: l.stateEnteredAt.toISOString(),
    stage: l.stage,
    stage_entered_at: l.stageEnteredAt.toISOString(),
    outbound_count: l.counters.outboundCount,
    inbound_count: l.counters.inboundCount,
    open_count: l.counters.openCount,
    click_count: l.counters.clickCount,
    interest_signals: l.counters.interestSignals,
    purchase_signals: l.counters.purchaseSignals,
    first_outbound_at: iso(l.firstOutboundAt),
    first_reply_at: iso(l.firstReplyAt),
    engagement_score: l.engagementScore,
    qualification_score: l.qualificationScore,
    qualification_signals: l.qualificationSignals,
    milestones: l.milestones,
    agent_id: l.agentId,
    updated_at: at.toISOString(),
  }));
  const moves = saves.flatMap((s) => s.transitions.map((t) => ({ ...t, at: t.at.toISOString() })));
  const res = await tx.execute<{ saved: number }>(sql`
    with v as (
      select * from jsonb_to_recordset(${JSON.stringify(leads)}::jsonb) as v(
        conversation_id uuid, version int, state text, state_entered_at timestamptz, stage text,
        stage_entered_at timestamptz, outbound_count int, inbound_count int, open_count int, click_count int,
        interest_signals int, purchase_signals int, first_outbound_at timestamptz, first_reply_at timestamptz,
        engagement_score int, qualification_score int, qualification_signals jsonb, milestones jsonb,
        agent_id text, updated_at timestamptz)
    ), saved as (
      update lead_journeys l set
        state = v.state, state_entered_at = v.state_entered_at, stage = v.stage, stage_entered_at = v.stage_entered_at,
        outbound_count = v.outbound_count, inbound_count = v.inbound_count,
        open_count = v.open_count, click_count = v.click_count,
        interest_signals = v.interest_signals, purchase_signals = v.purchase_signals,
        first_outbound_at = v.first_outbound_at, first_reply_at = v.first_reply_at,
        engagement_score = v.engagement_score, qualification_score = v.qualification_score,
        qualification_signals = v.qualification_signals, milestones = v.milestones,
        agent_id = v.agent_id, version = l.version + 1, updated_at = v.updated_at
        from v
       where l.conversation_id = v.conversation_id and l.version = v.version
      returning 1
    ), moved as (
      insert into lead_transitions (tenant_id, conversation_id, kind, event, from_value, to_value, triggered_by, warnings, metadata, at)
      select (r->>'tenantId')::uuid, (r->>'conversationId')::uuid, r->>'kind', r->>'event', r->>'from', r->>'to',
             r->>'triggeredBy', r->'warnings', r->'metadata', (r->>'at')::timestamptz
        from jsonb_array_elements(${JSON.stringify(moves)}::jsonb) with ordinality as e(r, n)
       where (select count(*) from saved) = ${saves.length}
       order by n
    )
    select count(*)::int as saved from saved`);
  const saved = Number(res.rows[0]?.saved);
  if (saved !== saves.length)
    throw new Error(`${saves.length - saved} of ${saves.length} leads changed under their row locks`);
}
