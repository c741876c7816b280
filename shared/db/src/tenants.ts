import { and, eq, sql } from 'drizzle-orm';
import type { Executor } from './client.ts';
import { channels, tenants } from './schema/index.ts';

// Operator queries on tenants (the switchboard CLI). A tenant has no status of its own: what it
// receives comes in through its channels, so disabling a tenant disables every channel it has, and
// the sync-worker parks their events from then on (replayable after enabling a channel again).

/** Creates a tenant; null when the slug is taken (nothing is changed then). */
export async function createTenant(db: Executor, t: { slug: string; name: string; timeZone?: string }) {
  const [row] = await db
    .insert(tenants)
    .values({ slug: t.slug, name: t.name, ...(t.timeZone ? { timeZone: t.timeZone } : {}) })
    .onConflictDoNothing({ target: tenants.slug })
    .returning({ id: tenants.id });
  return row?.id ?? null;
}

export async function findTenantId(db: Executor, slug: string): Promise<string | null> {
  const [row] = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug));
  return row?.id ?? null;
}

/** Every tenant with how many of its channels are active, oldest first. */
export async function listTenants(db: Executor) {
  return db
    .select({
      id: tenants.id,
      slug: tenants.slug,
      name: tenants.name,
      timeZone: tenants.timeZone,
      createdAt: tenants.createdAt,
      channels: sql<number>`count(${channels.id})::int`,
      activeChannels: sql<number>`count(${channels.id}) filter (where ${channels.status} = 'active')::int`,
    })
    .from(tenants)
    .leftJoin(channels, eq(channels.tenantId, tenants.id))
    .groupBy(tenants.id)
    .orderBy(tenants.createdAt, tenants.slug);
}

/** Disables every active channel of the tenant; returns how many changed. */
export async function disableTenantChannels(db: Executor, tenantId: string): Promise<number> {
  const rows = await db
    .update(channels)
    .set({ status: 'disabled' })
    .where(and(eq(channels.tenantId, tenantId), eq(channels.status, 'active')))
    .returning({ id: channels.id });
  return rows.length;
}

/**
 * Every tenant's id: work that spans tenants (sweeps, retention) runs per tenant, each under its
 * own tenant (Row-Level Security), and learns the tenants here (`tenants` is a system table).
 */
export async function allTenantIds(db: Executor): Promise<string[]> {
  const res = await db.execute<{ id: string }>(sql`select id from tenants order by created_at, id`);
  return res.rows.map((r) => r.id);
}
