import type { Executor } from '@switchboard/db';
import { sql } from 'drizzle-orm';

export type ChannelSecretRow = {
  provider: string;
  account_id: string;
  status: string;
  /** Null for a channel without secrets of its own (it verifies with the env default). */
  secret: string | null;
  expires_at: Date | null;
};

/**
 * Every channel with its valid secrets, one row per secret (or one with a null secret for a
 * channel without any): current first (no expiry), then rotated-away ones by the end of their grace
 * period, latest first. Secrets already past their grace are left out.
 */
export async function allChannelSecrets(db: Executor): Promise<ChannelSecretRow[]> {
  const res = await db.execute<ChannelSecretRow>(sql`
    select c.provider, c.account_id, c.status, s.secret, s.expires_at
      from channels c
      left join channel_secrets s on s.channel_id = c.id and (s.expires_at is null or s.expires_at > now())
     order by c.provider, c.account_id, s.expires_at desc nulls first`);
  return res.rows;
}
