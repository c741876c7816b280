import { edgeErrorResponse } from '@switchboard/platform';
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { Deps } from '../deps.ts';
import type { LookupCache } from '../lookup-cache.ts';
import { createTokenAuth } from './auth.ts';
import { leadRoutes } from './leads.ts';
import { lookupRoutes } from './lookup.ts';
import { statusHistoryRoutes } from './status-history.ts';
import { tenantRoutes } from './tenant.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant of the request's API token. Every query of an API route is scoped by it. */
    tenant: { id: string; slug: string };
  }
}

export interface ApiDeps extends Deps {
  redis: Redis;
  cache: LookupCache;
}

/** One area of the read API: registers its routes on the authenticated scope. */
export type ApiRoutes = (api: FastifyInstance, deps: ApiDeps) => void;

/** Every area of the API; a new one is a file in api/ and a line here. */
const areas: ApiRoutes[] = [tenantRoutes, leadRoutes, statusHistoryRoutes, lookupRoutes];

/**
 * The sync-worker's read API, beside the ops routes on the same port. Every route in this scope
 * requires `Authorization: Bearer <token>` and sees only that token's tenant; errors answer
 * `{ error, message }` like the edges.
 */
export function registerApi(app: FastifyInstance, deps: ApiDeps, opts: { tokenCacheTtlMs: number }): void {
  const authenticate = createTokenAuth(deps.db, opts.tokenCacheTtlMs);
  void app.register(async (api) => {
    api.decorateRequest('tenant', null as unknown as FastifyRequest['tenant']);
    api.addHook('onRequest', async (req) => {
      const t = await authenticate(req);
      req.tenant = { id: t.tenantId, slug: t.slug };
    });
    api.setErrorHandler((err: FastifyError, req, reply) => {
      const res = edgeErrorResponse(err);
      if (res.status >= 500) req.log.error({ err }, 'api request failed');
      for (const [name, value] of Object.entries(res.headers ?? {})) reply.header(name, value);
      return reply.code(res.status).send({ error: res.code, message: res.message });
    });
    for (const register of areas) register(api, deps);
  });
}
