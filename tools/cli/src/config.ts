import { fileURLToPath } from 'node:url';
import { commonEnv, DEFAULT_MIGRATION_DATABASE_URL, parseEnv } from '@switchboard/platform';
import { z } from 'zod';

/**
 * This file sits at the same depth in src/ (run with tsx) and dist/ (the bundle), so the default
 * resolves to the repository's shared/db/migrations either way; MIGRATIONS_DIR overrides it for
 * an install that keeps them elsewhere.
 */
const defaultMigrations = fileURLToPath(new URL('../../../shared/db/migrations', import.meta.url));

const postgresUrl = z.string().regex(/^postgres(ql)?:\/\//, 'must be a URL with one of postgres:, postgresql:');

/**
 * What the command line reads from the environment; nothing else reads process.env. The CLI
 * migrates and administers, so it connects as the tables' owner: MIGRATION_DATABASE_URL, else
 * DATABASE_URL (a setup with one URL), else the local owner. `DATABASE_URL` below is that choice.
 */
export const cliEnv = commonEnv
  .pick({ NODE_ENV: true, AMQP_URL: true, AMQP_NAMESPACE: true, REDIS_URL: true, REDIS_KEY_PREFIX: true })
  .extend({
    MIGRATION_DATABASE_URL: postgresUrl.optional(),
    DATABASE_URL: postgresUrl.optional(),
    MIGRATIONS_DIR: z.string().min(1).default(defaultMigrations),
    INGEST_URL: z.string().default('http://127.0.0.1:8080'),
    WHATSAPP_APP_SECRET: z.string().default('dev-whatsapp-app-secret'),
    /** The sync-worker's lookup cache TTL: an erasure keeps the generations it bumps twice as long. */
    LOOKUP_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).default(300),
  })
  .transform(({ MIGRATION_DATABASE_URL, ...e }) => ({
    ...e,
    DATABASE_URL: MIGRATION_DATABASE_URL ?? e.DATABASE_URL ?? DEFAULT_MIGRATION_DATABASE_URL,
  }));
export type CliEnv = z.infer<typeof cliEnv>;

/** Parsed on first use, so `--help` works even with a bad environment. */
export const readEnv = (): CliEnv => parseEnv(cliEnv, process.env);
