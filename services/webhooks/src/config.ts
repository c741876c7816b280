import { channelSecretsConfig, commonEnv, parseEnv, port, rateLimitConfig, secret } from '@switchboard/platform';
import { z } from 'zod';

const bytes = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const env = commonEnv.extend({
  WEBHOOKS_PORT: port.default(8081),
  WEBHOOKS_HOST: z.string().default('0.0.0.0'),
  /** Business-system events are small JSON documents; a reply's text is capped at 64 KiB. */
  AGENT_DESK_BODY_LIMIT_BYTES: bytes(256 * 1024),
  HELPDESK_BODY_LIMIT_BYTES: bytes(64 * 1024),
  /** Genesys Open Messaging messages carry up to 64 KiB of text plus attachment links. */
  GENESYS_BODY_LIMIT_BYTES: bytes(256 * 1024),
  /** How far `X-Timestamp` may be from our clock, either way (seconds). */
  SIGNATURE_WINDOW_SECONDS: z.coerce.number().int().positive().default(300),
});

export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(env, source);
  return {
    ...e,
    http: { port: e.WEBHOOKS_PORT, host: e.WEBHOOKS_HOST },
    signatureWindowMs: e.SIGNATURE_WINDOW_SECONDS * 1000,
    agentDesk: {
      secret: secret(source, 'AGENT_DESK_WEBHOOK_SECRET', 'dev-agent-desk-secret'),
      bodyLimit: e.AGENT_DESK_BODY_LIMIT_BYTES,
    },
    helpdesk: {
      secret: secret(source, 'HELPDESK_WEBHOOK_SECRET', 'dev-helpdesk-secret'),
      bodyLimit: e.HELPDESK_BODY_LIMIT_BYTES,
    },
    genesys: {
      /** The Open Messaging integration's outbound webhook secret. */
      secret: secret(source, 'GENESYS_WEBHOOK_SECRET', 'dev-genesys-secret'),
      bodyLimit: e.GENESYS_BODY_LIMIT_BYTES,
    },
    // Per-channel secrets (the sync-worker's registry, overriding the env defaults) and the rate
    // limit, read last so that a missing provider secret is what a production boot names first.
    channelSecrets: channelSecretsConfig(source),
    rateLimit: rateLimitConfig(source),
  };
}
export type Config = ReturnType<typeof loadConfig>;
