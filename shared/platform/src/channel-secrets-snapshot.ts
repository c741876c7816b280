import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { z } from 'zod';

/**
 * The channel registry's webhook secrets as the edges hold them: one snapshot of every channel
 * (provider, account, status, valid secrets with the end of their grace period), published to
 * Redis by the registry's owner (the sync-worker) and read whole by each edge. Edges have no
 * Postgres (design.md), so this is how a per-channel secret reaches them without a call into a
 * worker on the request's path.
 *
 * At rest in Redis the snapshot is sealed with AES-256-GCM under a key derived (HKDF-SHA256) from
 * `CHANNEL_SECRETS_KEY`, which only the publisher and the edges hold: someone who can read Redis
 * (a replica, a backup, a `MONITOR`) sees neither the secrets nor which accounts exist, and
 * someone who can write it cannot forge a snapshot (the tag would not verify) to let their own
 * secret sign a tenant's webhooks.
 */
export const ChannelSecretsSnapshot = z.object({
  /** When it was read from Postgres (publisher's clock, ms): what the edge's age metric reports. */
  version: z.number().int(),
  channels: z.array(
    z.object({
      provider: z.string(),
      accountId: z.string(),
      status: z.string(),
      /** Current first; `expiresAt` (ms) ends a rotated-away secret's grace period, null for current. */
      secrets: z.array(z.object({ secret: z.string(), expiresAt: z.number().nullable() })),
    }),
  ),
});
export type ChannelSecretsSnapshot = z.infer<typeof ChannelSecretsSnapshot>;

/** The Redis key holding the sealed snapshot (under the deployment's key prefix). */
export const CHANNEL_SECRETS_SNAPSHOT_KEY = 'channel-secrets:snapshot';
/** The pub/sub channel a new snapshot is announced on; pub/sub ignores key prefixes, so it takes one. */
export const channelSecretsAnnouncements = (keyPrefix: string) => `${keyPrefix}channel-secrets:changed`;

const VERSION = 'v1';
const deriveKey = (secret: string) =>
  Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'switchboard channel secrets v1', 32));

/** `v1.<iv>.<tag>.<ciphertext>` (base64url), authenticated with the key. */
export function sealSnapshot(snapshot: ChannelSecretsSnapshot, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(snapshot), 'utf8'), cipher.final()]);
  return [VERSION, iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

/** The snapshot, or an error naming why not (wrong key, tampered, not a snapshot). */
export function openSnapshot(sealed: string, secret: string): ChannelSecretsSnapshot {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || body === undefined)
    throw new Error('not a sealed channel-secrets snapshot');
  // A full-length tag only: GCM would otherwise accept a truncated one.
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret), Buffer.from(iv, 'base64url'), {
    authTagLength: 16,
  });
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  let text: string;
  try {
    text = Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('channel-secrets snapshot does not open with this key (CHANNEL_SECRETS_KEY differs, or tampered)');
  }
  return ChannelSecretsSnapshot.parse(JSON.parse(text));
}
