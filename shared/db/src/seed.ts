import { sql } from 'drizzle-orm';
import type { Executor } from './client.ts';
import { channels, tenants } from './schema/index.ts';

/** The development tenant the design promises: `npm start` seeds it, tests build on it. */
export const devTenant = {
  slug: 'dev',
  name: 'Development tenant',
  channels: [
    { provider: 'whatsapp', accountId: '106540352242922' },
    { provider: 'mailgun', accountId: 'mg.example.com' },
    { provider: 'genesys', accountId: 'dev-genesys-integration' },
    { provider: 'helpdesk', accountId: 'dev-helpdesk' },
    { provider: 'agent_desk', accountId: 'dev-agent-desk' },
  ],
} as const;

export interface SeededTenant {
  tenantId: string;
  channels: Record<string, string>;
}

/** Creates a tenant and its channels, or returns the existing ones; safe to run repeatedly. */
export async function seedTenant(
  db: Executor,
  t: { slug: string; name: string; channels: ReadonlyArray<{ provider: string; accountId: string }> },
): Promise<SeededTenant> {
  const [tenant] = await db
    .insert(tenants)
    .values({ slug: t.slug, name: t.name })
    .onConflictDoUpdate({ target: tenants.slug, set: { name: sql`excluded.name` } })
    .returning({ id: tenants.id });
  if (!tenant) throw new Error('tenant upsert returned no row');
  const ids: Record<string, string> = {};
  for (const c of t.channels) {
    const [row] = await db
      .insert(channels)
      .values({ tenantId: tenant.id, provider: c.provider, accountId: c.accountId })
      .onConflictDoUpdate({ target: [channels.provider, channels.accountId], set: { status: sql`channels.status` } })
      .returning({ id: channels.id, tenantId: channels.tenantId });
    if (!row) throw new Error('channel upsert returned no row');
    if (row.tenantId !== tenant.id) throw new Error(`${c.provider} account ${c.accountId} belongs to another tenant`);
    ids[c.provider] = row.id;
  }
  return { tenantId: tenant.id, channels: ids };
}
