/** What the edge's routes are given (app.ts builds the app from it; each route file reads its part). */
import type { Logger, PublishInbound, RateLimit, ReadinessCheck, SecretsFor } from '@switchboard/platform';
import type { Config } from '../config.ts';
import type { Metrics } from '../metrics.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  publish: PublishInbound;
  checks: Record<string, ReadinessCheck>;
  isStopping?: () => boolean;
  /** A channel's valid secrets (its own, or the env default); without it, the env default only. */
  secretsFor?: SecretsFor;
  /** The per-channel request budget (429 over it); without it, no limit. */
  rateLimit?: RateLimit;
  /** The Mailgun routes need the replay cache; without it they are not served. */
  mailgun?: MailgunDeps;
}

/** Claims a provider token once within the signature window (the Redis replay cache). */
export interface ReplayGuard {
  guard(id: string, signedAtSeconds: number, fn: () => Promise<void>): Promise<boolean>;
}

export interface MailgunDeps {
  replay: ReplayGuard;
  now: () => number;
}
