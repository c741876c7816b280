import { asTenant } from '@switchboard/db';
import { parseRequest, RequestError } from '@switchboard/platform';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { PhoneRegion, toE164 } from '../phone.ts';
import {
  conversationByGenesysId,
  conversationById,
  conversationByWhatsAppId,
  customerProfile,
  decodeCursor,
  messagePage,
  searchCustomers,
} from '../store/lookup.ts';
import type { ApiRoutes } from './area.ts';

const byId = z.object({ id: z.uuid() });
const notFound = (what: string) => new RequestError(404, 'not_found', `no ${what}`);

/** Sends cached JSON text as it is, or answers 404 when the lookup found nothing. */
function sendFound(reply: FastifyReply, json: string | null, what: string) {
  if (json === null) throw notFound(what);
  return reply.type('application/json; charset=utf-8').send(json);
}

/**
 * Lookups for the transformers and the agent portal: conversations by our id, by WhatsApp user
 * id and by Genesys conversation id; message history with cursor pagination; customer profiles
 * and search. Answers are cached in Redis (see lookup-cache.ts), each under the one dependency
 * whose changes invalidate it (migration 0013 names what each covers), and scoped by `req.tenant.id`:
 * another tenant's row answers 404, as one that does not exist.
 */
export const lookupRoutes: ApiRoutes = (api, deps) => {
  const { cache, pool } = deps;

  api.get('/conversations/:id', async (req, reply) => {
    const { id } = parseRequest(byId, req.params, 'path');
    const json = await cache.json(req.tenant.id, `conv:${id}`, `conv:${id}`, () =>
      asTenant(pool, req.tenant.id, (db) => conversationById(db, req.tenant.id, id)),
    );
    return sendFound(reply, json, `conversation ${id}`);
  });

  api.get('/conversations/by-whatsapp/:waId', async (req, reply) => {
    const { waId } = parseRequest(z.object({ waId: z.string().regex(/^\+?\d{5,20}$/) }), req.params, 'path');
    const id = waId.replace(/^\+/, '');
    const json = await cache.json(req.tenant.id, `conv-wa:${id}`, `wa:${id}`, () =>
      asTenant(pool, req.tenant.id, (db) => conversationByWhatsAppId(db, req.tenant.id, id)),
    );
    return sendFound(reply, json, `WhatsApp conversation with ${id}`);
  });

  api.get('/conversations/by-genesys/:genesysId', async (req, reply) => {
    const { genesysId } = parseRequest(z.object({ genesysId: z.string().min(1).max(200) }), req.params, 'path');
    const json = await cache.json(req.tenant.id, `conv-gc:${genesysId}`, `gc:${genesysId}`, () =>
      asTenant(pool, req.tenant.id, (db) => conversationByGenesysId(db, req.tenant.id, genesysId)),
    );
    return sendFound(reply, json, `conversation mapped to Genesys conversation ${genesysId}`);
  });

  api.get('/conversations/:id/messages', async (req, reply) => {
    const { id } = parseRequest(byId, req.params, 'path');
    const q = parseRequest(
      z.object({ limit: z.coerce.number().int().min(1).max(200).default(50), cursor: z.string().max(200).optional() }),
      req.query,
      'query',
    );
    const cursor = q.cursor === undefined ? null : decodeCursor(q.cursor);
    if (q.cursor !== undefined && !cursor)
      throw new RequestError(400, 'bad_request', 'cursor is not one this API gave');
    const json = await cache.json(req.tenant.id, `msgs:${id}:${q.limit}:${q.cursor ?? ''}`, `conv:${id}`, () =>
      asTenant(pool, req.tenant.id, async (db) => {
        const conversation = await conversationById(db, req.tenant.id, id);
        if (!conversation) return null;
        return { conversationId: id, ...(await messagePage(db, req.tenant.id, id, { limit: q.limit, cursor })) };
      }),
    );
    return sendFound(reply, json, `conversation ${id}`);
  });

  api.get('/customers/:id', async (req, reply) => {
    const { id } = parseRequest(byId, req.params, 'path');
    const json = await cache.json(req.tenant.id, `cust:${id}`, `cust:${id}`, () =>
      asTenant(pool, req.tenant.id, (db) => customerProfile(db, req.tenant.id, id)),
    );
    return sendFound(reply, json, `customer ${id}`);
  });

  api.get('/customers', async (req, reply) => {
    const q = parseRequest(
      z
        .object({
          phone: z.string().min(3).max(40).optional(),
          /** The region a national number is read in; the worker's default when absent. */
          region: PhoneRegion.optional(),
          name: z.string().trim().min(1).max(200).optional(),
          /** A WhatsApp business-scoped user id, current or previous (`US.1349…`). */
          userId: z.string().min(1).max(128).optional(),
          /** A WhatsApp username, as Meta sends it (`@bob`). */
          username: z.string().min(1).max(128).optional(),
          limit: z.coerce.number().int().min(1).max(100).default(20),
        })
        .refine((v) => [v.phone, v.name, v.userId, v.username].filter((x) => x !== undefined).length === 1, {
          message: 'give exactly one of phone, name, userId, username',
        })
        .refine((v) => v.region === undefined || v.phone !== undefined, {
          message: 'region goes with phone: the region a national number is read in',
        }),
      req.query,
      'query',
    );
    if (q.phone !== undefined) {
      const region = q.region ?? deps.defaultPhoneRegion;
      const phone = toE164(q.phone.replace(/[\s().-]/g, ''), region);
      if (!phone) {
        const where = region ? ` in region ${region}` : '';
        throw new RequestError(400, 'bad_request', `phone ${JSON.stringify(q.phone)} is not a phone number${where}`);
      }
      const json = await cache.json(req.tenant.id, `cust-phone:${phone}:${q.limit}`, `phone:${phone}`, async () => ({
        query: { phone },
        customers: await asTenant(pool, req.tenant.id, (db) => searchCustomers(db, req.tenant.id, { phone }, q.limit)),
      }));
      return sendFound(reply, json, 'answer');
    }
    if (q.userId !== undefined) {
      const userId = q.userId;
      const json = await cache.json(req.tenant.id, `cust-uid:${userId}:${q.limit}`, `uid:${userId}`, async () => ({
        query: { userId },
        customers: await asTenant(pool, req.tenant.id, (db) => searchCustomers(db, req.tenant.id, { userId }, q.limit)),
      }));
      return sendFound(reply, json, 'answer');
    }
    if (q.username !== undefined) {
      const username = q.username;
      const json = await cache.json(
        req.tenant.id,
        `cust-uname:${username}:${q.limit}`,
        `uname:${username}`,
        async () => ({
          query: { username },
          customers: await asTenant(pool, req.tenant.id, (db) =>
            searchCustomers(db, req.tenant.id, { username }, q.limit),
          ),
        }),
      );
      return sendFound(reply, json, 'answer');
    }
    const name = q.name as string;
    // Keyed by the name as asked (the search itself ignores case): the answer echoes it.
    const json = await cache.json(req.tenant.id, `cust-name:${name}:${q.limit}`, 'names', async () => ({
      query: { name },
      customers: await asTenant(pool, req.tenant.id, (db) => searchCustomers(db, req.tenant.id, { name }, q.limit)),
    }));
    return sendFound(reply, json, 'answer');
  });
};
