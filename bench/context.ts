import type { BenchEnv } from './env.ts';
import type { BenchOptions } from './options.ts';
import type { Pipeline, PipelineShape } from './pipeline.ts';
import type { ScenarioResult } from './result.ts';

export type { ScenarioResult } from './result.ts';

export interface BenchContext {
  options: BenchOptions;
  env: BenchEnv;
  /**
   * The services in the shape a scenario measures (`edge+sync`: ingest and the sync-worker only;
   * `all`: every service), plus the collector: started, stopped and warmed up as the shape needs.
   */
  pipeline: (shape: PipelineShape) => Promise<Pipeline>;
  log: (line: string) => void;
  /** With `--profile`: where services started by a scenario write their CPU profiles. */
  profileDir?: string;
}

export interface Scenario {
  name: string;
  description: string;
  run: (ctx: BenchContext) => Promise<ScenarioResult>;
}
