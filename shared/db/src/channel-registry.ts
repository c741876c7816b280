import { randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, or, sql } from 'drizzle-orm';
import type { Database, Executor } from './client.ts';
import { channelSecrets, channels } from './schema/index.ts';

/**
 * The channel registry: a tenant's provider accounts and their webhook secrets. A channel's
 * current secret overrides the edge's env default; `rotate` keeps the previous one valid until
 * its grace period ends, so a provider that still signs with it is not refused meanwhile.
 */

/** The channel the `channels` trigger (migration 0011) notifies on commit: `{ provider, accountId }`. */
export const CHANNELS_CHANNEL = 'switchboard_channels';

export const CHANNEL_PROVIDERS = ['whatsapp', 'mailgun', 'genesys', 'helpdesk', 'agent_desk'] as const;
export type ChannelProvider = (typeof CHANNEL_PROVIDERS)[number];

export const newChannelSecret = () => randomBytes(32).toString('base64url');

export async function addChannel(
  db: Database,
  input: { tenantId: string; provider: ChannelProvider; accountId: string; secret?: string },
): Promise<{ id: string }> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(channels)
      .values({ tenantId: input.tenantId, provider: input.provider, accountId: input.accountId })
      .returning({ id: channels.id });
    if (!row) throw new Error('channel insert returned no row');
    if (input.secret)
      await tx.insert(channelSecrets).values({ tenantId: input.tenantId, channelId: row.id, secret: input.secret });
    return row;
  });
}

export async function listChannels(db: Executor, tenantId: string) {
  return db
    .select({
      id: channels.id,
      provider: channels.provider,
      accountId: channels.accountId,
      status: channels.status,
      secrets: sql<number>`(select count(*)::int from channel_secrets s where s.channel_id = channels.id and (s.expires_at is null or s.expires_at > now()))`,
    })
    .from(channels)
    .where(eq(channels.tenantId, tenantId))
    .orderBy(channels.provider, channels.accountId);
}

/** A new current secret; the old one (if any) stays valid for `graceMs`. Row lock orders concurrent rotations. */
export async function rotateChannelSecret(
  db: Database,
  channelId: string,
  graceMs: number,
  secret = newChannelSecret(),
) {
  return db.transaction(async (tx) => {
    const [channel] = await tx
      .select({ id: channels.id, tenantId: channels.tenantId })
      .from(channels)
      .where(eq(channels.id, channelId))
      .for('update');
    if (!channel) return null;
    await tx
      .update(channelSecrets)
      .set({ expiresAt: sql`now() + make_interval(secs => ${graceMs / 1000})` })
      .where(and(eq(channelSecrets.channelId, channelId), isNull(channelSecrets.expiresAt)));
    await tx.insert(channelSecrets).values({ tenantId: channel.tenantId, channelId, secret });
    return { secret };
  });
}

/** Its events are parked from the next one on (the worker hears the change through NOTIFY). */
export const disableChannel = (db: Executor, channelId: string) => setChannelStatus(db, channelId, 'disabled');

/** Active again: its events are applied, and those parked meanwhile can be replayed. */
export const enableChannel = (db: Executor, channelId: string) => setChannelStatus(db, channelId, 'active');

async function setChannelStatus(db: Executor, channelId: string, status: 'active' | 'disabled'): Promise<boolean> {
  const rows = await db
    .update(channels)
    .set({ status })
    .where(eq(channels.id, channelId))
    .returning({ id: channels.id });
  return rows.length > 0;
}

export interface ChannelSecrets {
  channelId: string;
  tenantId: string;
  status: string;
  /** Valid secrets, current first; empty when the channel uses the env default. */
  secrets: string[];
}

/** A provider account's channel and its valid secrets, or null for an unknown account. */
export async function channelSecretsFor(
  db: Executor,
  provider: string,
  accountId: string,
): Promise<ChannelSecrets | null> {
  const [channel] = await db
    .select({ id: channels.id, tenantId: channels.tenantId, status: channels.status })
    .from(channels)
    .where(and(eq(channels.provider, provider), eq(channels.accountId, accountId)));
  if (!channel) return null;
  const rows = await db
    .select({ secret: channelSecrets.secret })
    .from(channelSecrets)
    .where(
      and(
        eq(channelSecrets.channelId, channel.id),
        or(isNull(channelSecrets.expiresAt), gt(channelSecrets.expiresAt, sql`now()`)),
      ),
    )
    .orderBy(sql`${channelSecrets.expiresAt} desc nulls first`);
  return {
    channelId: channel.id,
    tenantId: channel.tenantId,
    status: channel.status,
    secrets: rows.map((r) => r.secret),
  };
}
