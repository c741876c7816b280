import { schema } from '@switchboard/db';
import { eq } from 'drizzle-orm';
import type { ApiRoutes } from './area.ts';

/** `GET /tenant`: who the token belongs to and the channels it owns (never their secrets). */
export const tenantRoutes: ApiRoutes = (api, deps) => {
  api.get('/tenant', async (req) => {
    const [tenant] = await deps.db
      .select({
        id: schema.tenants.id,
        slug: schema.tenants.slug,
        name: schema.tenants.name,
        timeZone: schema.tenants.timeZone,
      })
      .from(schema.tenants)
      .where(eq(schema.tenants.id, req.tenant.id));
    const channels = await deps.db
      .select({
        id: schema.channels.id,
        provider: schema.channels.provider,
        accountId: schema.channels.accountId,
        status: schema.channels.status,
      })
      .from(schema.channels)
      .where(eq(schema.channels.tenantId, req.tenant.id))
      .orderBy(schema.channels.provider, schema.channels.accountId);
    return { ...tenant, channels };
  });
};
