import { z } from 'zod';

/** Raised at boot when the environment does not parse; the message names every bad variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once, at boot. Nothing else in a service reads `process.env`: each
 * service's `config.ts` calls this with its own schema and passes the result down.
 */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
  throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
}

export const port = z.coerce.number().int().min(0).max(65535);
const hasProtocol = (v: string, protocols: string[]) => {
  try {
    return protocols.includes(new URL(v).protocol);
  } catch {
    return false;
  }
};
const url = (protocols: string[]) =>
  z.string().refine((v) => hasProtocol(v, protocols), `must be a URL with one of ${protocols.join(', ')}`);

/** One URL or several separated by commas, each with one of `protocols`. */
const urlList = (protocols: string[]) =>
  z
    .string()
    .refine(
      (v) => v.split(',').every((part) => hasProtocol(part.trim(), protocols)),
      `must be a URL with one of ${protocols.join(', ')}, or several separated by commas`,
    );

/** Comma-separated positive integers (milliseconds), read into an array. */
const delayList = z
  .string()
  .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'comma-separated milliseconds, e.g. 1000,5000,30000')
  .transform((v) => v.split(',').map((part) => Number(part.trim())))
  .refine((delays) => delays.every((d) => d > 0), 'every delay must be above 0');

/** The tables' owner: what migrations and administrative commands connect as (never a service). */
export const DEFAULT_MIGRATION_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/switchboard';

/** Variables every service shares: where its dependencies are and how it logs. */
export const commonEnv = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * As the services' role (`switchboard_app`, created by the migrations): not the tables' owner and
   * unable to bypass Row-Level Security. Migrations and the CLI use MIGRATION_DATABASE_URL.
   */
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://switchboard_app@127.0.0.1:5432/switchboard'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  /** One node, or the nodes of one cluster separated by commas (tried in turn, see Broker). */
  AMQP_URL: urlList(['amqp:', 'amqps:']).default('amqp://guest:guest@127.0.0.1:5672'),
  /** How long a publish waits for the broker's confirm before it fails and is retried (Publisher). */
  AMQP_CONFIRM_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Prefixes every exchange and queue name; empty in production, unique per test. */
  AMQP_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9-]*\.?$/, 'lowercase letters, digits, dashes')
    .default(''),
  /**
   * The retry ladder of every consumed queue: how long a failed delivery waits before its next
   * attempt, one delay per retry (the last repeats). Each delay is its own TTL queue.
   */
  AMQP_RETRY_DELAYS_MS: delayList.default([1_000, 5_000, 30_000]),
  /** Prefixes every Redis key. */
  REDIS_KEY_PREFIX: z.string().default('sb:'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
});
export type CommonEnv = z.infer<typeof commonEnv>;

/**
 * A secret with a development default. With NODE_ENV=production the default is refused, so a
 * deployment that forgot to set it fails at boot instead of accepting forged webhooks.
 */
export function secret(env: NodeJS.ProcessEnv, name: string, devDefault: string): string {
  const value = env[name];
  if (value && value.length > 0) return value;
  if (env.NODE_ENV === 'production') throw new ConfigError(`invalid configuration:\n  ${name}: required in production`);
  return devDefault;
}
