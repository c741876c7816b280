import { createTokenAuth } from '@switchboard/db';
import { registerTenantScope } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import { analyticsRoutes } from './analytics.ts';
import type { ApiDeps, ApiRoutes } from './area.ts';
import { conversationRoutes } from './conversations.ts';
import { erasureRoutes } from './erasure.ts';
import { leadRoutes } from './leads.ts';
import { lookupRoutes } from './lookup.ts';
import { messageRoutes } from './messages.ts';
import { retentionRoutes } from './retention.ts';
import { statusHistoryRoutes } from './status-history.ts';
import { tenantRoutes } from './tenant.ts';

export type { ApiDeps, ApiRoutes } from './area.ts';

/** Every area of the API; a new one is a file in api/ and a line here. */
const areas: ApiRoutes[] = [
  tenantRoutes,
  leadRoutes,
  statusHistoryRoutes,
  lookupRoutes,
  messageRoutes,
  retentionRoutes,
  erasureRoutes,
  conversationRoutes,
  analyticsRoutes,
];

/**
 * The sync-worker's read API, beside the ops routes on the same port. Every route in this scope
 * requires `Authorization: Bearer <token>` and sees only that token's tenant; errors answer
 * `{ error, message }` like the edges.
 */
export function registerApi(app: FastifyInstance, deps: ApiDeps, opts: { tokenCacheTtlMs: number }): void {
  registerTenantScope(app, createTokenAuth(deps.db, opts.tokenCacheTtlMs), (api) => {
    for (const register of areas) register(api, deps);
  });
}
