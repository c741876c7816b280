/** What the edge's routes are given (app.ts builds the app from it; each route file reads its part). */
import type { Logger, PublishInbound, ReadinessCheck } from '@switchboard/platform';
import type { Config } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import type { SignedDeps } from '../signed.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  publish: PublishInbound;
  signed: SignedDeps;
  checks: Record<string, ReadinessCheck>;
  isStopping?: () => boolean;
}
