import { asTenantClient, transaction } from '@switchboard/db';
import { changeRetentionPolicy, MAX_RETENTION_DAYS, RETENTION_PARTS, type RetentionPart } from '@switchboard/domain';
import { parseRequest, RequestError } from '@switchboard/platform';
import { z } from 'zod';
import { readRetentionPolicy, writeRetentionPolicy } from '../store/retention-policy.ts';
import type { ApiRoutes } from './area.ts';

const days = z.number().int().min(1).max(MAX_RETENTION_DAYS);
const PolicyChange = z.strictObject(
  Object.fromEntries(RETENTION_PARTS.map((p) => [p, days.optional()])) as Record<
    RetentionPart,
    z.ZodOptional<typeof days>
  >,
);

/**
 * The tenant's retention policy (admin): `GET` answers it (`custom: false` while the defaults
 * apply); `PUT` changes any of its periods, checked as a whole (no part may outlive the
 * conversation), and answers the policy now in force. The retention job reads it on its next run.
 */
export const retentionRoutes: ApiRoutes = (api, deps) => {
  api.get('/retention-policy', { config: { scope: 'admin' } }, async (req) =>
    asTenantClient(deps.pool, req.tenant.id, (client) => readRetentionPolicy(client, req.tenant.id)),
  );

  api.put('/retention-policy', { config: { scope: 'admin' } }, async (req) => {
    const change = parseRequest(PolicyChange, req.body ?? {}, 'body');
    // Read and written in one transaction under the tenant: a concurrent change cannot interleave.
    return transaction(
      deps.pool,
      async (_tx, client) => {
        await client.query('select 1 from tenants where id = $1 for update', [req.tenant.id]);
        const current = await readRetentionPolicy(client, req.tenant.id);
        const next = changeRetentionPolicy(current.policy, change as Partial<Record<RetentionPart, number>>);
        if (next.kind === 'reject') throw new RequestError(400, 'invalid_policy', next.reason);
        await writeRetentionPolicy(client, req.tenant.id, next.policy);
        return { policy: next.policy, custom: true };
      },
      { tenantId: req.tenant.id },
    );
  });
};
