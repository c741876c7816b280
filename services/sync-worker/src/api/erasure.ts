import { parseRequest, RequestError } from '@switchboard/platform';
import { z } from 'zod';
import { eraseCustomer } from '../erasure/erase.ts';
import type { ApiRoutes } from './area.ts';

/**
 * `POST /customers/:id/erase` (admin): GDPR erasure of the token's tenant's customer. 200 with
 * `erased` the first time, `already_erased` after (nothing changes); 404 for a customer that is
 * not the tenant's; 503 when the database is erased but the cache purge is owed (ask again).
 */
export const erasureRoutes: ApiRoutes = (api, deps) => {
  api.post('/customers/:id/erase', { config: { scope: 'admin' } }, async (req) => {
    const { id } = parseRequest(z.object({ id: z.uuid() }), req.params, 'path');
    const r = await eraseCustomer(
      {
        pool: deps.pool,
        redis: deps.redis,
        lookupTtlSeconds: deps.lookupTtlSeconds ?? 300,
        eventsExchange: deps.names.events,
        logger: deps.logger,
        metrics: deps.metrics,
        now: deps.now,
      },
      req.tenant.id,
      id,
    );
    switch (r.kind) {
      case 'not_found':
        throw new RequestError(404, 'not_found', `no customer ${id}`);
      case 'cache_pending':
        throw new RequestError(503, 'cache_purge_pending', 'erased in the database; the cache purge failed: ask again');
      case 'erased':
      case 'already_erased':
        return { customerId: id, result: r.kind, eventId: r.eventId, erasedAt: r.erasedAt.toISOString() };
      default: {
        const never: never = r;
        return never;
      }
    }
  });
};
