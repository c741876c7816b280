import { timingSafeEqual } from 'node:crypto';
import { channelSecretsFor, type Executor } from '@switchboard/db';
import { edgeErrorResponse, parseRequest, RequestError } from '@switchboard/platform';
import type { FastifyError, FastifyInstance } from 'fastify';
import { z } from 'zod';

const Params = z.object({ provider: z.string().min(1).max(50), accountId: z.string().min(1).max(500) });

const sameToken = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Internal routes for the edges, outside the tenant API: a channel's valid webhook secrets
 * (current first, then any still in their rotation grace period), so that the stateless edges
 * verify with per-channel secrets without a Postgres connection of their own. Authenticated with
 * the deployment's `INTERNAL_API_TOKEN`; never exposed to tenants. A disabled channel answers its
 * secrets too: its events are signed by the provider as usual and parked by the worker.
 */
export function registerInternal(app: FastifyInstance, deps: { db: Executor; internalToken: string }): void {
  void app.register(async (internal) => {
    internal.addHook('onRequest', async (req) => {
      const m = /^Bearer (.{1,512})$/.exec(req.headers.authorization ?? '');
      if (!m || !sameToken(m[1] as string, deps.internalToken)) {
        throw new RequestError(401, 'unauthorized', 'send Authorization: Bearer <internal token>');
      }
    });
    internal.setErrorHandler((err: FastifyError, req, reply) => {
      const res = edgeErrorResponse(err);
      if (res.status >= 500) req.log.error({ err }, 'internal request failed');
      return reply.code(res.status).send({ error: res.code, message: res.message });
    });
    internal.get('/internal/channels/:provider/:accountId/secrets', async (req, reply) => {
      const { provider, accountId } = parseRequest(Params, req.params, 'path');
      const found = await channelSecretsFor(deps.db, provider, accountId);
      if (!found) return reply.code(404).send({ error: 'not_found', message: 'no such channel' });
      reply.header('cache-control', 'no-store');
      return { channelId: found.channelId, status: found.status, secrets: found.secrets };
    });
  });
}
