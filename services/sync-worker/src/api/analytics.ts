import { asTenant } from '@switchboard/db';
import { parseRequest, RequestError } from '@switchboard/platform';
import { z } from 'zod';
import { conversationReport } from '../store/analytics.ts';
import type { ApiRoutes } from './index.ts';

const MAX_RANGE_MS = 366 * 86_400_000;
const ReportQuery = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  groupBy: z.enum(['day', 'channel', 'agent']).default('day'),
});

/**
 * A manager's report over a time range (seed 001 phase 7, seed 003): conversations opened in the
 * range with their messages per conversation and first and average response times, and those
 * closed in it with their duration, grouped by day (the tenant's time zone), channel or agent.
 * Read from `conversation_metrics`, which a trigger keeps as messages are stored, so the report
 * costs one index range, not a pass over the messages (README: Analytics).
 */
export const analyticsRoutes: ApiRoutes = (api, { pool }) => {
  api.get('/analytics/conversations', async (req) =>
    asTenant(pool, req.tenant.id, async (db) => {
      const q = parseRequest(ReportQuery, req.query, 'query');
      const from = new Date(q.from);
      const to = new Date(q.to);
      if (to <= from) throw new RequestError(400, 'bad_request', 'to must be after from');
      if (to.getTime() - from.getTime() > MAX_RANGE_MS)
        throw new RequestError(400, 'bad_request', 'the range is at most 366 days');
      const report = await conversationReport(db, req.tenant.id, from, to, q.groupBy);
      return { from: from.toISOString(), to: to.toISOString(), groupBy: q.groupBy, ...report };
    }),
  );
};
