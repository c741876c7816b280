import { asTenant } from '@switchboard/db';
import { parseRequest, RequestError } from '@switchboard/platform';
import { z } from 'zod';
import { assignmentSummary, leadSummary, openTickets } from '../store/conversation-context.ts';
import { type ConversationFilter, conversationPage } from '../store/conversation-list.ts';
import { conversationMessageStats, ticketCounts } from '../store/conversation-status.ts';
import { conversationById, decodeCursor, messageById, messagePage } from '../store/lookup.ts';
import type { ApiRoutes } from './area.ts';

const byId = z.object({ id: z.uuid() });
const PROVIDERS = ['whatsapp', 'mailgun', 'genesys'] as const;

const ListQuery = z.object({
  status: z.enum(['open', 'active', 'closed']).optional(),
  /** A provider name or a channel id. */
  channel: z.union([z.enum(PROVIDERS), z.uuid()]).optional(),
  agent: z.string().min(1).max(200).optional(),
  /** At least 3 characters (a trigram), no control characters. */
  q: z
    .string()
    .trim()
    .min(3, 'q needs at least 3 characters')
    .max(200)
    .regex(/^[^\p{Cc}]*$/u, 'q holds no control characters')
    .optional(),
  updatedSince: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});

function toFilter(q: z.infer<typeof ListQuery>): ConversationFilter {
  const isProvider = (PROVIDERS as readonly string[]).includes(q.channel ?? '');
  return {
    ...(q.status ? { status: q.status } : {}),
    ...(q.channel ? { channel: isProvider ? { provider: q.channel } : { channelId: q.channel } } : {}),
    ...(q.agent ? { agentId: q.agent } : {}),
    ...(q.q ? { text: q.q } : {}),
    ...(q.updatedSince ? { updatedSince: new Date(q.updatedSince) } : {}),
  };
}

const notFound = (what: string) => new RequestError(404, 'not_found', `no ${what}`);

/**
 * The agent portal's and a manager's views of conversations: the list (filters, text search,
 * cursor pagination), a conversation's status with its counts and response times, its context
 * (what an agent needs on screen), and one message. Read straight from Postgres along the indexes
 * of migration `conversation_read_indexes` (see the README's benchmark); scoped by `req.tenant.id`.
 */
export const conversationRoutes: ApiRoutes = (api, { pool }) => {
  api.get('/conversations', async (req) =>
    asTenant(pool, req.tenant.id, async (db) => {
      const q = parseRequest(ListQuery, req.query, 'query');
      const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
      if (q.cursor !== undefined && !cursor)
        throw new RequestError(400, 'bad_request', 'cursor is not one this API gave');
      return conversationPage(db, req.tenant.id, toFilter(q), { limit: q.limit, cursor });
    }),
  );

  api.get('/conversations/:id/status', async (req) =>
    asTenant(pool, req.tenant.id, async (db) => {
      const { id } = parseRequest(byId, req.params, 'path');
      const c = await conversationById(db, req.tenant.id, id);
      if (!c) throw notFound(`conversation ${id}`);
      const [stats, tickets] = await Promise.all([
        conversationMessageStats(db, req.tenant.id, id),
        ticketCounts(db, req.tenant.id, id),
      ]);
      const end = c.closedAt ? new Date(c.closedAt) : null;
      return {
        conversationId: id,
        status: c.status,
        provider: c.provider,
        agentId: c.agentId,
        version: c.version,
        openedAt: c.openedAt,
        closedAt: c.closedAt,
        lastActivityAt: c.lastActivityAt,
        durationMs: end && c.openedAt ? end.getTime() - new Date(c.openedAt).getTime() : null,
        counts: { messages: stats.inbound + stats.outbound, inbound: stats.inbound, outbound: stats.outbound, tickets },
        responseTimes: stats.responseTimes,
      };
    }),
  );

  api.get('/conversations/:id/context', async (req) =>
    asTenant(pool, req.tenant.id, async (db) => {
      const { id } = parseRequest(byId, req.params, 'path');
      const tenantId = req.tenant.id;
      const c = await conversationById(db, tenantId, id);
      if (!c) throw notFound(`conversation ${id}`);
      const [recent, stats, tickets, lead, assignment] = await Promise.all([
        messagePage(db, tenantId, id, { limit: 20, cursor: null }),
        conversationMessageStats(db, tenantId, id),
        openTickets(db, tenantId, id),
        leadSummary(db, tenantId, id),
        assignmentSummary(db, tenantId, id),
      ]);
      return {
        conversation: c,
        customer: c.customer,
        recentMessages: recent.messages,
        olderMessagesCursor: recent.nextCursor,
        openTickets: tickets,
        leadJourney: lead,
        assignment: { agentId: c.agentId, ...assignment },
        summary: {
          participants: { customer: c.customer.id, agents: assignment.agents },
          messages: stats.inbound + stats.outbound,
          inbound: stats.inbound,
          outbound: stats.outbound,
          lastActivityAt: c.lastActivityAt,
          waitingSince: stats.responseTimes.waitingSince,
        },
      };
    }),
  );

  api.get('/messages/:id', async (req) =>
    asTenant(pool, req.tenant.id, async (db) => {
      const { id } = parseRequest(byId, req.params, 'path');
      const m = await messageById(db, req.tenant.id, id);
      if (!m) throw notFound(`message ${id}`);
      return m;
    }),
  );
};
