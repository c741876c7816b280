import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Scenario names to run; empty means all. */
  only: string[];
  /** Webhooks in the pipeline max-throughput run. */
  messages: number;
  /** Messages in the baseline max-throughput run. */
  baselineMessages: number;
  /** Webhooks in flight at once in the max-throughput run. */
  concurrency: number;
  /** Messages published but not yet committed at once in the baseline max-throughput run. */
  baselineWindow: number;
  /** Offered rate (messages/s) of the fixed-rate runs, and how long they last. */
  rate: number;
  durationS: number;
  warmup: number;
  /** Distinct customers (senders) the webhooks are spread over. */
  customers: number;
  /** Extra environment for the services (KEY=VALUE), to try a setting without editing code. */
  serviceEnv: Record<string, string>;
  /**
   * The database role the services connect as: `app` (switchboard_app, under Row-Level Security,
   * as deployed), `owner` (the tables' owner, a superuser here: no RLS), or `both`: every selected
   * scenario under each, owner first, in one run, and the CPU cost of RLS as a ratio.
   */
  dbRole: 'app' | 'owner' | 'both';
  /**
   * Scenarios with every service also run the realtime gateway (one replica), so
   * `realtime.events` is consumed as in production rather than filling with nobody reading it.
   */
  gateway: boolean;
  /** Start the services with --cpu-prof and summarize the profiles at the end. */
  profile: boolean;
  /** Run the services' TypeScript through tsx instead of building them first (`npm run build`). */
  tsx: boolean;
  list: boolean;
}

const USAGE = `npm run bench -- [options]

  --only <a,b>             run only these scenarios (see --list)
  --messages <n>           webhooks in the pipeline max-throughput run (default 10000)
  --baseline-messages <n>  messages in the baseline max-throughput run (default 20000)
  --concurrency <n>        webhooks in flight in the max-throughput run (default 64)
  --baseline-window <n>    baseline messages in flight, publish to commit (default 2000)
  --rate <n>               offered rate of the fixed-rate runs, messages/s (default 1000)
  --duration <s>           length of the fixed-rate runs in seconds (default 10)
  --warmup <n>             webhooks sent before measuring (default 500; 0 for none)
  --customers <n>          distinct senders the webhooks are spread over (default 200)
  --service-env K=V        extra environment for ingest and sync-worker (repeatable),
                           e.g. --service-env SYNC_BATCH_SIZE=50
  --db-role <app|owner|both>  what the services connect as: the RLS-bound app role
                           (default), the tables' owner (no RLS), or both in one run
                           with the cost of RLS per message as a ratio
  --gateway                scenarios with every service also run the realtime gateway (one
                           replica), so realtime.events is consumed as in production
  --profile                run the services with --cpu-prof and print where their CPU went
  --tsx                    run the services' TypeScript through tsx, as npm start does, instead
                           of the production build (npm run build, plain JavaScript) that the
                           container image runs; tsx costs CPU of its own
  --list                   list the scenarios and exit

Prints a table and writes bench/results/latest.json. Exits 1 when a run was broken (errors,
lost or duplicated messages, a scenario that failed), 0 otherwise, targets met or not.
`;

function positive(name: string, raw: string | undefined, fallback: number, allowZero = false): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero))
    throw new Error(
      `--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(raw)}`,
    );
  return n;
}

function keyValues(pairs: string[] = []): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 1) throw new Error(`--service-env expects KEY=VALUE, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

export function parseOptions(argv: string[]): BenchOptions | { help: string; error?: string } {
  try {
    return parse(argv);
  } catch (err) {
    return { help: USAGE, error: err instanceof Error ? err.message : String(err) };
  }
}

function parse(argv: string[]): BenchOptions | { help: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      messages: { type: 'string' },
      'baseline-messages': { type: 'string' },
      concurrency: { type: 'string' },
      'baseline-window': { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      customers: { type: 'string' },
      'service-env': { type: 'string', multiple: true },
      'db-role': { type: 'string', default: 'app' },
      gateway: { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      tsx: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return { help: USAGE };
  const dbRole = values['db-role'];
  if (dbRole !== 'app' && dbRole !== 'owner' && dbRole !== 'both')
    throw new Error(`--db-role must be app, owner or both, got ${JSON.stringify(dbRole)}`);
  return {
    only: (values.only ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    messages: Math.round(positive('messages', values.messages, 10_000)),
    baselineMessages: Math.round(positive('baseline-messages', values['baseline-messages'], 20_000)),
    concurrency: Math.round(positive('concurrency', values.concurrency, 64)),
    baselineWindow: Math.round(positive('baseline-window', values['baseline-window'], 2_000)),
    rate: positive('rate', values.rate, 1_000),
    durationS: positive('duration', values.duration, 10),
    warmup: Math.round(positive('warmup', values.warmup, 500, true)),
    customers: Math.round(positive('customers', values.customers, 200)),
    serviceEnv: keyValues(values['service-env']),
    dbRole,
    gateway: values.gateway ?? false,
    profile: values.profile ?? false,
    tsx: values.tsx ?? false,
    list: values.list ?? false,
  };
}
