import type { BatchHandler } from '@switchboard/platform';
import { createBatchHandler as kitBatchHandler } from '@switchboard/worker';
import { CONSUMER, type Deps } from '../deps.ts';
import type { Route } from './route.ts';
import { routesByType } from './routes.ts';

/**
 * The consumer's batch handler: the kit's batch runner over the routing table. After a commit, no
 * later lookup of a tenant it changed is answered from before the change: every tenant an applied
 * event belongs to (it may have changed rows without an event, e.g. a late `delivered` after
 * `read` only stamps a time) and every tenant an event was appended for.
 */
export function createBatchHandler(deps: Deps, table: Map<string, Route> = routesByType): BatchHandler {
  return kitBatchHandler({
    deps,
    pool: deps.pool,
    metrics: deps.metrics,
    logger: deps.logger,
    consumer: CONSUMER,
    table,
    withLocks: (keys, fn) => deps.locks.withLocks(keys, { ...deps.lock, scope: 'batch' }, fn),
    afterBatch: ({ applied, outbox }) => {
      const tenants = new Set(applied.map((s) => s.channel.tenantId));
      for (const o of outbox) if (o.event.tenantid) tenants.add(o.event.tenantid);
      return deps.lookups ? () => deps.lookups?.invalidate(tenants) : undefined;
    },
  });
}
