import { parseRequest, RequestError } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { commit, nextChat } from './assign.ts';
import { changeChat, type Deps } from './chats.ts';

const ChatParams = z.object({ id: z.uuid() });
const OperatorParams = z.object({ id: z.string().min(1).max(200) });

/** Operator commands (answered synchronously) and the queue views, all scoped to the token's tenant. */
export function assignmentRoutes(api: FastifyInstance, deps: Deps): void {
  api.post('/operators/:id/next-chat', async (req, reply) => {
    const { id } = parseRequest(OperatorParams, req.params, 'path');
    const r = await nextChat(deps, req.tenant.id, id);
    switch (r.outcome) {
      case 'assigned':
        return { chatId: r.chatId, assignmentId: r.assignmentId };
      case 'unknown_operator':
        throw new RequestError(404, 'not_found', `no operator ${id}: the agent desk has not reported it`);
      case 'not_online':
        throw new RequestError(409, 'not_online', `operator ${id} is not online`);
      default:
        // None waiting, or at capacity: nothing fits this operator now.
        reply.header('x-switchboard-reason', r.outcome);
        return reply.code(204).send();
    }
  });

  const command = (kind: 'release' | 'complete') => async (req: import('fastify').FastifyRequest) => {
    const { id } = parseRequest(ChatParams, req.params, 'path');
    const body = parseRequest(z.object({ reason: z.string().min(1).max(200).optional() }).optional(), req.body, 'body');
    const reason = body?.reason ?? (kind === 'release' ? 'released' : 'completed by operator');
    const { result } = await commit(deps, async (tx) => {
      const a = await changeChat(tx, deps, { id, tenantId: req.tenant.id }, { kind, reason, at: deps.now() });
      return { result: a, applied: a.ok ? [a] : [] };
    });
    if (!result.ok) {
      if (result.reason === 'unknown_chat') throw new RequestError(404, 'not_found', `no chat ${id}`);
      throw new RequestError(409, 'conflict', result.reason ?? 'not allowed');
    }
    return { chatId: id, state: result.chat?.state };
  };
  api.post('/chats/:id/release', command('release'));
  api.post('/chats/:id/complete', command('complete'));

  api.get('/chats/stuck', async (req) => {
    const { hours } = parseRequest(
      z.object({
        hours: z.coerce
          .number()
          .positive()
          .max(24 * 90)
          .default(1),
      }),
      req.query,
      'query',
    );
    const since = new Date(deps.now().getTime() - hours * 3_600_000).toISOString();
    const rows = await deps.db.execute<{
      id: string;
      state: string;
      assignee_id: string | null;
      last_operator_id: string | null;
      since: Date;
    }>(sql`
      select id, state, assignee_id, last_operator_id,
             case state when 'assigned' then assigned_at else operator_replied_at end as since
        from chats
       where tenant_id = ${req.tenant.id}
         and ((state = 'assigned' and assigned_at < ${since}::timestamptz)
           or (state = 'waiting_real_user_reply' and operator_replied_at < ${since}::timestamptz))
       order by since limit 500`);
    return {
      hours,
      chats: rows.rows.map((r) => ({
        chatId: r.id,
        state: r.state,
        operatorId: r.assignee_id ?? r.last_operator_id,
        since: new Date(r.since).toISOString(),
      })),
    };
  });

  api.get('/queue/status', async (req) => {
    const now = deps.now();
    const q = await deps.db.execute<{ waiting: number; oldest: Date | null }>(sql`
      select count(*)::int as waiting, min(waiting_since) as oldest
        from chats where tenant_id = ${req.tenant.id} and state = 'waiting_assignment'`);
    const ops = await deps.db.execute<{ id: string; status: string; capacity: number; load: number }>(sql`
      select o.id, o.status, o.capacity,
             o.active_chats as load
        from operators o where o.tenant_id = ${req.tenant.id} and o.status = 'online' order by o.id`);
    const oldest = q.rows[0]?.oldest;
    return {
      waiting: q.rows[0]?.waiting ?? 0,
      oldestWaitSeconds: oldest ? Math.max(0, Math.round((now.getTime() - new Date(oldest).getTime()) / 1000)) : null,
      operatorsOnline: ops.rows.length,
      operators: ops.rows.map((o) => ({ id: o.id, load: o.load, capacity: o.capacity })),
    };
  });

  api.get('/chats/summary', async (req) => {
    const rows = await deps.db.execute<{ state: string; n: number }>(sql`
      select state, count(*)::int as n from chats where tenant_id = ${req.tenant.id} group by state`);
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
