import { channelSecretsConfig, commonEnv, parseEnv, port, rateLimitConfig, secret } from '@switchboard/platform';
import { z } from 'zod';

const env = commonEnv.extend({
  INGEST_PORT: port.default(8080),
  INGEST_HOST: z.string().default('0.0.0.0'),
  /** Meta sends at most a few hundred KiB; anything near a MiB is not a WhatsApp webhook. */
  WHATSAPP_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Mailgun forwards messages up to 25 MB of MIME; a route's forward() with attachments stays under this. */
  MAILGUN_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(30 * 1024 * 1024),
  MAILGUN_EVENT_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  /** How far a Mailgun signature's timestamp may be from our clock, either way (seconds). */
  MAILGUN_SIGNATURE_WINDOW_SECONDS: z.coerce.number().int().positive().default(300),
});

export function loadConfig(source: NodeJS.ProcessEnv = process.env) {
  const e = parseEnv(env, source);
  return {
    ...e,
    http: { port: e.INGEST_PORT, host: e.INGEST_HOST },
    whatsapp: {
      appSecret: secret(source, 'WHATSAPP_APP_SECRET', 'dev-whatsapp-app-secret'),
      verifyToken: secret(source, 'WHATSAPP_VERIFY_TOKEN', 'dev-verify-token'),
      bodyLimit: e.WHATSAPP_BODY_LIMIT_BYTES,
    },
    mailgun: {
      signingKey: secret(source, 'MAILGUN_WEBHOOK_SIGNING_KEY', 'dev-mailgun-signing-key'),
      bodyLimit: e.MAILGUN_BODY_LIMIT_BYTES,
      eventBodyLimit: e.MAILGUN_EVENT_BODY_LIMIT_BYTES,
      signatureWindowMs: e.MAILGUN_SIGNATURE_WINDOW_SECONDS * 1000,
    },
    // Per-channel secrets (the sync-worker's registry, overriding the env defaults) and the rate
    // limit, read last so that a missing provider secret is what a production boot names first.
    channelSecrets: channelSecretsConfig(source),
    rateLimit: rateLimitConfig(source),
  };
}
export type Config = ReturnType<typeof loadConfig>;
