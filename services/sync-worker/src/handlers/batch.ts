import type { BatchHandler } from '@switchboard/platform';
import { createBatchHandler as kitBatchHandler } from '@switchboard/worker';
import { CONSUMER, type Deps } from '../deps.ts';
import type { Route } from './route.ts';
import { routesByType } from './routes.ts';

/**
 * The consumer's batch handler: the kit's batch runner over the routing table. After a commit, no
 * later lookup of what it changed is answered from before the change: the unit of work's
 * `beforeCommit` (deps, see lookup-keys.ts) reads the lookup keys its writes touched.
 */
export function createBatchHandler(deps: Deps, table: Map<string, Route> = routesByType): BatchHandler {
  return kitBatchHandler({
    deps,
    pool: deps.pool,
    metrics: deps.metrics,
    beforeCommit: deps.beforeCommit,
    logger: deps.logger,
    consumer: CONSUMER,
    table,
    tenantOf: (scope) => scope.channel.tenantId,
    withLocks: (keys, fn) => deps.locks.withLocks(keys, { ...deps.lock, scope: 'batch' }, fn),
  });
}
