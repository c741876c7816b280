import { commonEnv, parseEnv, port, secret } from '@switchboard/platform';
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
  };
}
export type Config = ReturnType<typeof loadConfig>;
