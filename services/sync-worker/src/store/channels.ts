import { type Executor, schema } from '@switchboard/db';
import { and, eq } from 'drizzle-orm';

export interface Channel {
  id: string;
  tenantId: string;
  provider: string;
  accountId: string;
  status: string;
}

export type ResolveChannel = (provider: string, accountId: string) => Promise<Channel | null>;

/**
 * Provider account → channel (and so tenant). Channels change rarely and every event needs one,
 * so answers are cached in-process for `ttlMs`; a newly added channel is seen within that time.
 */
export function createChannelResolver(db: Executor, ttlMs: number): ResolveChannel {
  const cache = new Map<string, { at: number; channel: Channel | null }>();
  return async (provider, accountId) => {
    const key = `${provider}\u0000${accountId}`;
    const hit = cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.channel;
    const [row] = await db
      .select({
        id: schema.channels.id,
        tenantId: schema.channels.tenantId,
        provider: schema.channels.provider,
        accountId: schema.channels.accountId,
        status: schema.channels.status,
      })
      .from(schema.channels)
      .where(and(eq(schema.channels.provider, provider), eq(schema.channels.accountId, accountId)));
    const channel = row ?? null;
    cache.set(key, { at: Date.now(), channel });
    return channel;
  };
}
