import { fileURLToPath } from 'node:url';
import { commonEnv, parseEnv } from '@switchboard/platform';
import { z } from 'zod';

/**
 * This file sits at the same depth in src/ (run with tsx) and dist/ (the bundle), so the default
 * resolves to the repository's shared/db/migrations either way; MIGRATIONS_DIR overrides it for
 * an install that keeps them elsewhere.
 */
const defaultMigrations = fileURLToPath(new URL('../../../shared/db/migrations', import.meta.url));

/** What the command line reads from the environment; nothing else reads process.env. */
export const cliEnv = commonEnv
  .pick({
    NODE_ENV: true,
    DATABASE_URL: true,
    AMQP_URL: true,
    AMQP_NAMESPACE: true,
    REDIS_URL: true,
    REDIS_KEY_PREFIX: true,
  })
  .extend({
    MIGRATIONS_DIR: z.string().min(1).default(defaultMigrations),
    INGEST_URL: z.string().default('http://127.0.0.1:8080'),
    WHATSAPP_APP_SECRET: z.string().default('dev-whatsapp-app-secret'),
    /** The sync-worker's lookup cache TTL: an erasure keeps the generations it bumps twice as long. */
    LOOKUP_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  });
export type CliEnv = z.infer<typeof cliEnv>;

/** Parsed on first use, so `--help` works even with a bad environment. */
export const readEnv = (): CliEnv => parseEnv(cliEnv, process.env);
