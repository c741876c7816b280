import { asTenant } from '@switchboard/db';
import {
  ancestorChain,
  JOURNEY_STAGES,
  LEAD_EVENTS,
  LEAD_STATES,
  STAGE_PROGRESS,
  type ThreadNode,
  threadMessages,
} from '@switchboard/domain';
import { parseRequest, RequestError } from '@switchboard/platform';
import { unitOfWork } from '@switchboard/worker';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { applyLeadEvent, type LeadChange, previewLeadEvent } from '../lead/apply.ts';
import { findLead } from '../lead/store.ts';
import { listThread, type ThreadRow } from '../store/email.ts';
import type { ApiRoutes } from './area.ts';

const Params = z.object({ id: z.uuid() });
const TransitionBody = z.object({
  event: z.enum(LEAD_EVENTS),
  /** Who asks (a user id of the calling system), kept in the audit trail and the event. */
  triggeredBy: z.string().min(1).max(200),
  agentId: z.string().min(1).max(200).optional(),
  /** Why the lead qualifies (QUALIFICATION_CRITERIA_MET), e.g. "purchase_intent_expressed". */
  criteria: z.array(z.string().min(1).max(200)).max(20).optional(),
  /**
   * Seed 003's free-form context of a transition, kept whole in the audit trail and the event; its
   * `qualificationReason` (a string) counts as a qualification criterion, as `criteria` do.
   */
  metadata: z
    .record(z.string().min(1).max(100), z.json())
    .refine((m) => JSON.stringify(m).length <= 4096, 'metadata is at most 4 KiB of JSON')
    .optional(),
});

/** The qualification criteria a request names: `criteria`, and `metadata.qualificationReason`. */
function criteriaOf(b: z.infer<typeof TransitionBody>): string[] | undefined {
  const reason = b.metadata?.qualificationReason;
  const all = [...(b.criteria ?? []), ...(typeof reason === 'string' && reason.trim() ? [reason.trim()] : [])];
  return all.length > 0 ? all : undefined;
}

const change = (b: z.infer<typeof TransitionBody>, at: Date): LeadChange => {
  const criteria = criteriaOf(b);
  return {
    event: b.event,
    trigger: { kind: 'api', id: b.triggeredBy },
    at,
    ...(b.agentId ? { agentId: b.agentId } : {}),
    ...(criteria ? { qualificationSignals: criteria } : {}),
    ...(b.metadata ? { metadata: b.metadata } : {}),
    keepFactsOnReject: false,
  };
};

interface TreeNode {
  messageIdHeader: string;
  messageId: string | null;
  parentId: string | null;
  subject: string | null;
  direction: string | null;
  sentAt: string | null;
  deliveryStatus: string | null;
  text: string | null;
  children: TreeNode[];
}

function toTree(nodes: ThreadNode<ThreadRow>[]): TreeNode[] {
  return nodes.map((n) => ({
    messageIdHeader: n.id,
    messageId: n.message?.message_id ?? null,
    parentId: n.message?.parent_id ?? null,
    subject: n.message?.subject ?? null,
    direction: n.message?.direction ?? null,
    sentAt: n.message?.sent_at.toISOString() ?? null,
    deliveryStatus: n.message?.delivery_status ?? null,
    text: n.message?.body ?? null,
    children: toTree(n.children),
  }));
}

/**
 * The email and lead areas of the read API: thread tree, lead journey, validate-transition
 * (changes nothing), transition (the same domain function, transaction and outbox as the
 * worker's events) and the dashboard overview. Every query is scoped by `req.tenant.id`.
 */
export const leadRoutes: ApiRoutes = (api, deps) => {
  api.get('/conversations/:id/thread-tree', async (req) => {
    const { id } = parseRequest(Params, req.params, 'path');
    const rows = await asTenant(deps.pool, req.tenant.id, (tx) => listThread(tx, req.tenant.id, id));
    if (rows.length === 0) throw new RequestError(404, 'not_found', `no email conversation ${id}`);
    const byId = new Map(rows.map((r) => [r.message_id, r]));
    const roots = threadMessages(
      rows.map((r) => {
        const chain = ancestorChain({
          messageId: r.message_id_header,
          references: r.references,
          inReplyTo: r.in_reply_to,
        });
        const parent = r.parent_id ? byId.get(r.parent_id)?.message_id_header : undefined;
        return {
          id: r.message_id_header,
          subject: r.subject,
          references: chain.length > 0 || !parent ? chain : [parent],
          message: r,
        };
      }),
    );
    return { conversationId: id, messages: rows.length, roots: toTree(roots) };
  });

  api.get('/conversations/:id/lead-journey', async (req) => {
    const { id } = parseRequest(Params, req.params, 'path');
    const { lead, history } = await asTenant(deps.pool, req.tenant.id, async (tx) => ({
      lead: await findLead(tx, req.tenant.id, id, false),
      history: await tx.execute<{
        kind: string;
        event: string | null;
        from_value: string;
        to_value: string;
        triggered_by: string;
        warnings: unknown;
        metadata: unknown;
        at: Date;
      }>(sql`
      select kind, event, from_value, to_value, triggered_by, warnings, metadata, at from lead_transitions
       where tenant_id = ${req.tenant.id} and conversation_id = ${id} order by id`),
    }));
    if (!lead) throw new RequestError(404, 'not_found', `no lead journey for conversation ${id}`);
    const now = deps.now().getTime();
    return {
      conversationId: id,
      customerId: lead.customerId,
      state: lead.state,
      stateEnteredAt: lead.stateEnteredAt.toISOString(),
      stage: lead.stage,
      progress: STAGE_PROGRESS[lead.stage],
      stageEnteredAt: lead.stageEnteredAt.toISOString(),
      timeInStageSeconds: Math.max(0, Math.round((now - lead.stageEnteredAt.getTime()) / 1000)),
      engagementScore: lead.engagementScore,
      qualificationScore: lead.qualificationScore,
      counters: lead.counters,
      qualificationSignals: lead.qualificationSignals,
      milestones: lead.milestones,
      agentId: lead.agentId,
      history: history.rows.map((h) => ({ ...h, at: new Date(h.at).toISOString() })),
    };
  });

  api.post('/conversations/:id/validate-transition', async (req) => {
    const { id } = parseRequest(Params, req.params, 'path');
    const body = parseRequest(TransitionBody, req.body, 'body');
    const preview = await asTenant(deps.pool, req.tenant.id, (tx) =>
      previewLeadEvent(tx, req.tenant.id, id, change(body, deps.now())),
    );
    if (!preview) throw new RequestError(404, 'not_found', `no lead journey for conversation ${id}`);
    const d = preview.decision;
    return {
      conversationId: id,
      state: preview.lead.state,
      event: body.event,
      allowed: d.kind === 'apply',
      decision: d.kind,
      ...(d.kind === 'apply' ? { to: d.to } : {}),
      ...(d.kind === 'reject' ? { reason: d.reason } : {}),
      rules: preview.rules,
    };
  });

  // A manual status change: admins only (seed 002).
  api.post('/conversations/:id/transition', { config: { scope: 'admin' } }, async (req) => {
    const { id } = parseRequest(Params, req.params, 'path');
    const body = parseRequest(TransitionBody, req.body, 'body');
    // Once committed, the unit of work tells the read cache what the transition touched (deps.beforeCommit).
    const result = await unitOfWork(
      deps,
      async (unit) => {
        const out = await applyLeadEvent(unit.tx, deps, req.tenant.id, id, change(body, deps.now()));
        if (out) unit.record(out);
        return out;
      },
      { tenantId: req.tenant.id },
    );
    if (!result) throw new RequestError(404, 'not_found', `no lead journey for conversation ${id}`);
    const d = result.decision;
    switch (d.kind) {
      case 'apply':
        return {
          conversationId: id,
          from: d.from,
          state: d.to,
          changed: d.changed,
          stage: result.lead.stage,
          warnings: d.warnings,
        };
      case 'ignore':
        throw new RequestError(409, 'illegal_transition', `${body.event} does nothing on a ${result.lead.state} lead`);
      case 'reject':
        if (d.reason === 'illegal_transition') {
          throw new RequestError(409, 'illegal_transition', `${body.event} is not allowed from ${d.from}`);
        }
        throw new RequestError(422, 'validation_failed', d.failures.map((f) => `${f.rule}: ${f.message}`).join('; '));
      default: {
        const never: never = d;
        throw new Error(`unhandled decision ${JSON.stringify(never)}`);
      }
    }
  });

  api.get('/leads/overview', async (req) => {
    const res = await asTenant(deps.pool, req.tenant.id, (tx) =>
      tx.execute<{ state: string; stage: string; n: string }>(sql`
      select state, stage, count(*)::text as n from lead_journeys where tenant_id = ${req.tenant.id} group by state, stage`),
    );
    const states = Object.fromEntries(LEAD_STATES.map((s) => [s, 0])) as Record<string, number>;
    const stages = Object.fromEntries(JOURNEY_STAGES.map((s) => [s, 0])) as Record<string, number>;
    for (const r of res.rows) {
      states[r.state] = (states[r.state] ?? 0) + Number(r.n);
      stages[r.stage] = (stages[r.stage] ?? 0) + Number(r.n);
    }
    // Stages only move forward, so a lead at stage s has passed every stage before it.
    const reached = JOURNEY_STAGES.map((_, i) => JOURNEY_STAGES.slice(i).reduce((n, s) => n + (stages[s] ?? 0), 0));
    const conversion = JOURNEY_STAGES.slice(1).map((s, i) => ({
      from: JOURNEY_STAGES[i],
      to: s,
      reached: reached[i + 1] ?? 0,
      rate: (reached[i] ?? 0) === 0 ? null : Math.round(((reached[i + 1] ?? 0) / (reached[i] ?? 1)) * 1000) / 1000,
    }));
    return { total: reached[0] ?? 0, states, stages, conversion };
  });
};
