import { asTenant } from '@switchboard/db';
import { parseRequest } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Deps } from '../deps.ts';

const StuckQuery = z.object({
  hours: z.coerce
    .number()
    .positive()
    .max(24 * 90)
    .default(1),
});

/** The queue views (seed 004): stuck chats, the queue's status, the count per state. */
export function assignmentViews(api: FastifyInstance, deps: Deps): void {
  // Chats assigned, or waiting on the customer, for more than `hours` (by the worker's clock), and
  // every chat the stuck sweep flagged, however long ago.
  api.get('/chats/stuck', async (req) => {
    const { hours } = parseRequest(StuckQuery, req.query, 'query');
    const since = new Date(deps.now().getTime() - hours * 3_600_000).toISOString();
    const rows = await asTenant(deps.pool, req.tenant.id, (tx) =>
      tx.execute<{
        id: string;
        state: string;
        assignee_id: string | null;
        last_operator_id: string | null;
        since: Date;
        flagged_at: Date | null;
      }>(sql`
      select id, state, assignee_id, last_operator_id, flagged_at,
             case state when 'assigned' then assigned_at else operator_replied_at end as since
        from chats
       where tenant_id = ${req.tenant.id}
         and ((state = 'assigned' and assigned_at < ${since}::timestamptz)
           or (state = 'waiting_real_user_reply'
               and (operator_replied_at < ${since}::timestamptz or flagged_at is not null)))
       order by since, id limit 500`),
    );
    return {
      hours,
      chats: rows.rows.map((r) => ({
        chatId: r.id,
        state: r.state,
        operatorId: r.assignee_id ?? r.last_operator_id,
        since: new Date(r.since).toISOString(),
        flaggedAt: r.flagged_at ? new Date(r.flagged_at).toISOString() : null,
      })),
    };
  });

  api.get('/queue/status', async (req) => {
    const now = deps.now();
    const { q, ops } = await asTenant(deps.pool, req.tenant.id, async (tx) => ({
      q: await tx.execute<{ waiting: number; oldest: Date | null }>(sql`
      select count(*)::int as waiting, min(waiting_since) as oldest
        from chats where tenant_id = ${req.tenant.id} and state = 'waiting_assignment'`),
      ops: await tx.execute<{ id: string; capacity: number; load: number }>(sql`
      select o.id, o.capacity, o.active_chats as load
        from operators o where o.tenant_id = ${req.tenant.id} and o.status = 'online' order by o.id`),
    }));
    const oldest = q.rows[0]?.oldest;
    return {
      waiting: q.rows[0]?.waiting ?? 0,
      oldestWaitSeconds: oldest ? Math.max(0, Math.round((now.getTime() - new Date(oldest).getTime()) / 1000)) : null,
      operatorsOnline: ops.rows.length,
      operators: ops.rows.map((o) => ({ id: o.id, load: o.load, capacity: o.capacity })),
    };
  });

  api.get('/chats/summary', async (req) => {
    const rows = await asTenant(deps.pool, req.tenant.id, (tx) =>
      tx.execute<{ state: string; n: number }>(sql`
      select state, count(*)::int as n from chats where tenant_id = ${req.tenant.id} group by state`),
    );
    const summary: Record<string, number> = {
      waiting_assignment: 0,
      assigned: 0,
      waiting_real_user_reply: 0,
      completed: 0,
    };
    for (const r of rows.rows) summary[r.state] = r.n;
    return summary;
  });
}
