import type { Executor } from '@switchboard/db';
import { STAGE_PROGRESS } from '@switchboard/domain';
import { sql } from 'drizzle-orm';

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** The conversation's tickets that are not closed, most recently changed first. */
export async function openTickets(db: Executor, tenantId: string, conversationId: string) {
  const res = await db.execute<{
    id: string;
    external_id: string;
    status: string;
    subject: string | null;
    assignee: string | null;
    updated_at: Date;
  }>(sql`
    select id, external_id, status, subject, assignee, updated_at from tickets
     where tenant_id = ${tenantId} and conversation_id = ${conversationId} and status <> 'closed'
     order by updated_at desc limit 50`);
  return res.rows.map((t) => ({
    id: t.id,
    externalTicketId: t.external_id,
    status: t.status,
    subject: t.subject,
    assignee: t.assignee,
    updatedAt: iso(t.updated_at),
  }));
}

/** The lead journey of an email conversation, or null (chat conversations have none). */
export async function leadSummary(db: Executor, tenantId: string, conversationId: string) {
  const res = await db.execute<{
    state: string;
    stage: string;
    engagement_score: number;
    qualification_score: number;
    milestones: Array<{ milestone: string; stage: string; at: string }>;
    stage_entered_at: Date;
  }>(sql`
    select state, stage, engagement_score, qualification_score, milestones, stage_entered_at from lead_journeys
     where tenant_id = ${tenantId} and conversation_id = ${conversationId}`);
  const l = res.rows[0];
  if (!l) return null;
  return {
    state: l.state,
    stage: l.stage,
    progress: STAGE_PROGRESS[l.stage as keyof typeof STAGE_PROGRESS] ?? null,
    engagementScore: l.engagement_score,
    qualificationScore: l.qualification_score,
    milestones: l.milestones,
    stageEnteredAt: iso(l.stage_entered_at),
  };
}

/**
 * Who is on the conversation, read from its status history: the agent it is with now and since
 * when (the history row that made it active), and every agent who changed its status.
 */
export async function assignmentSummary(db: Executor, tenantId: string, conversationId: string) {
  const res = await db.execute<{ active_since: Date | null; active_by: string | null; agents: string[] }>(sql`
    select (select changed_at from status_history
             where tenant_id = ${tenantId} and entity_type = 'conversation' and entity_id = ${conversationId}
               and is_active and status = 'active') as active_since,
           (select changed_by from status_history
             where tenant_id = ${tenantId} and entity_type = 'conversation' and entity_id = ${conversationId}
               and is_active and status = 'active') as active_by,
           coalesce((select array_agg(distinct changed_by) from status_history
             where tenant_id = ${tenantId} and entity_type = 'conversation' and entity_id = ${conversationId}
               and changed_by is not null and source = 'agent'), '{}') as agents`);
  const r = res.rows[0];
  return { activeSince: iso(r?.active_since ?? null), activatedBy: r?.active_by ?? null, agents: r?.agents ?? [] };
}
