import { asTenant, type Executor } from '@switchboard/db';
import { parseRequest, RequestError } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { ApiRoutes } from './area.ts';

type HistoryRow = {
  status: string;
  previous_status: string | null;
  is_active: boolean;
  changed_by: string | null;
  source: string;
  reason: string | null;
  notes: string | null;
  cause_event_id: string | null;
  version: number;
  changed_at: Date;
};

const view = (r: HistoryRow) => ({
  status: r.status,
  previousStatus: r.previous_status,
  isActive: r.is_active,
  changedBy: r.changed_by,
  source: r.source,
  reason: r.reason,
  notes: r.notes,
  causeEventId: r.cause_event_id,
  version: r.version,
  changedAt: new Date(r.changed_at).toISOString(),
});

async function history(tx: Executor, tenantId: string, entityType: 'conversation' | 'ticket', entityId: string) {
  const rows = await tx.execute<HistoryRow>(sql`
    select status, previous_status, is_active, changed_by, source, reason, notes, cause_event_id, version, changed_at
      from status_history
     where tenant_id = ${tenantId} and entity_type = ${entityType} and entity_id = ${entityId}
     order by id`);
  return rows.rows.map(view);
}

/**
 * Status history (seed 002), oldest first; the row with `isActive` is the current status. Both
 * routes answer 404 for an entity of another tenant, as for one that does not exist.
 */
export const statusHistoryRoutes: ApiRoutes = (api, deps) => {
  api.get('/conversations/:id/status-history', async (req) => {
    const { id } = parseRequest(z.object({ id: z.uuid() }), req.params, 'path');
    return asTenant(deps.pool, req.tenant.id, async (tx) => {
      const found = await tx.execute<{ status: string }>(sql`
      select status from conversations where id = ${id} and tenant_id = ${req.tenant.id}`);
      const current = found.rows[0];
      if (!current) throw new RequestError(404, 'not_found', `no conversation ${id}`);
      return {
        conversationId: id,
        status: current.status,
        history: await history(tx, req.tenant.id, 'conversation', id),
      };
    });
  });

  // A ticket by our id or by the helpdesk's own id.
  api.get('/tickets/:id/status-history', async (req) => {
    const { id } = parseRequest(z.object({ id: z.string().min(1).max(200) }), req.params, 'path');
    const isUuid = z.uuid().safeParse(id).success;
    return asTenant(deps.pool, req.tenant.id, async (tx) => {
      const found = await tx.execute<{
        id: string;
        external_id: string;
        conversation_id: string;
        status: string;
      }>(sql`
      select id, external_id, conversation_id, status from tickets
       where tenant_id = ${req.tenant.id} and (external_id = ${id} ${isUuid ? sql`or id = ${id}::uuid` : sql``})
       order by (external_id = ${id}) desc limit 1`);
      const t = found.rows[0];
      if (!t) throw new RequestError(404, 'not_found', `no ticket ${id}`);
      return {
        ticketId: t.id,
        externalTicketId: t.external_id,
        conversationId: t.conversation_id,
        status: t.status,
        history: await history(tx, req.tenant.id, 'ticket', t.id),
      };
    });
  });
};
