import { asTenant } from '@switchboard/db';
import { parseRequest, RequestError } from '@switchboard/platform';
import { z } from 'zod';
import { conversationReport, type InTenant } from '../store/analytics.ts';
import { operatorReport } from '../store/operator-analytics.ts';
import type { ApiRoutes } from './area.ts';

const MAX_RANGE_MS = 366 * 86_400_000;
const Range = { from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) };
const ReportQuery = z.object({ ...Range, groupBy: z.enum(['day', 'channel', 'agent']).default('day') });
const OperatorQuery = z.object({ ...Range, groupBy: z.enum(['day', 'channel', 'operator']).default('day') });

/** A report's [from, to): `to` after `from`, at most 366 days on. */
function rangeOf(q: { from: string; to: string }) {
  const from = new Date(q.from);
  const to = new Date(q.to);
  if (to <= from) throw new RequestError(400, 'bad_request', 'to must be after from');
  if (to.getTime() - from.getTime() > MAX_RANGE_MS)
    throw new RequestError(400, 'bad_request', 'the range is at most 366 days');
  return { from, to };
}

/**
 * A manager's reports over a time range (seed 001 phase 7, seed 003, seed 004's chats per
 * operator), both grouped by day in the tenant's time zone or by channel:
 * - `/analytics/conversations`: conversations opened in the range with their messages per
 *   conversation and first and average response times, and those closed in it with their
 *   duration (or by agent). Read from `conversation_metrics`, which a trigger keeps as messages
 *   are stored, so the report costs one index range, not a pass over the messages.
 * - `/analytics/operators`: assignments begun in the range with the queue wait, and those ended
 *   in it (chats handled) with the handle time (or by operator). Read from `chat_assignments`.
 *   A report of its own: its rows are assignments, not conversations (a conversation has
 *   several, by several operators), so it neither fits the conversation report's cohorts nor
 *   adds work to it (README: Analytics).
 */
export const analyticsRoutes: ApiRoutes = (api, { pool }) => {
  // Each report's two halves run in transactions of their own under the tenant, at once (InTenant).
  const inTenantOf =
    (tenantId: string): InTenant =>
    (fn) =>
      asTenant(pool, tenantId, fn);
  api.get('/analytics/conversations', async (req) => {
    const q = parseRequest(ReportQuery, req.query, 'query');
    const { from, to } = rangeOf(q);
    const report = await conversationReport(inTenantOf(req.tenant.id), req.tenant.id, from, to, q.groupBy);
    return { from: from.toISOString(), to: to.toISOString(), groupBy: q.groupBy, ...report };
  });
  api.get('/analytics/operators', async (req) => {
    const q = parseRequest(OperatorQuery, req.query, 'query');
    const { from, to } = rangeOf(q);
    const report = await operatorReport(inTenantOf(req.tenant.id), req.tenant.id, from, to, q.groupBy);
    return { from: from.toISOString(), to: to.toISOString(), groupBy: q.groupBy, ...report };
  });
};
