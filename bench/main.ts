// `npm run bench`: end-to-end throughput and latency of the pipeline (signed webhook → ingest →
// sync-worker → Postgres → `message.received` on switchboard.events) beside a bare
// publish/consume/insert loop measured in the same run on the same broker and database.
// Not a test: it reports figures and whether the issue's targets were met. `--help` for options.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext, ScenarioResult } from './context.ts';
import { type BenchEnv, createBenchEnv } from './env.ts';
import { parseOptions } from './options.ts';
import { Pipelines } from './pipeline.ts';
import { summarizeProfiles } from './profile.ts';
import {
  correctnessProblems,
  evaluateTargets,
  formatCpuTable,
  formatStagesTable,
  formatTable,
  formatTargets,
  rlsCost,
} from './report.ts';
import { scenarios } from './scenarios.ts';
import { round } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(root, 'bench', 'results');
const profileDir = join(resultsDir, 'profiles');
const argv = process.argv.slice(2);
const options = parseOptions(argv);
if ('help' in options) {
  if (options.error) console.error(`${options.error}\n`);
  console.log(options.help);
  process.exit(options.error ? 2 : 0);
}
if (options.list) {
  for (const s of scenarios) console.log(`${s.name.padEnd(16)} ${s.description}`);
  process.exit(0);
}
const unknown = options.only.filter((name) => !scenarios.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const selected = scenarios.filter((s) => options.only.length === 0 || options.only.includes(s.name));

mkdirSync(resultsDir, { recursive: true });
if (options.profile) {
  rmSync(profileDir, { recursive: true, force: true });
  mkdirSync(profileDir, { recursive: true });
}
const began = performance.now();
const log = (line: string) => console.log(`[${((performance.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}`);

let env: BenchEnv | undefined;
let pipelines: Pipelines | undefined;
let cleaning: Promise<void> | undefined;
/** Stops the services (SIGTERM, graceful) and removes the database, queues and Redis keys; runs once. */
const cleanup = () =>
  (cleaning ??= (async () => {
    await pipelines?.stop();
    await env?.cleanup();
  })());
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
// Whatever goes wrong, the shared servers are left as they were found.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.once(event, (err: unknown) => {
    console.error(`${event}:`, err);
    void cleanup().finally(() => process.exit(1));
  });
}

const startedAt = new Date();
const results: ScenarioResult[] = [];
const failures: Array<{ scenario: string; error: string }> = [];
try {
  if (!options.tsx) {
    log('building the services (npm run build), so they run as the image runs them');
    execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'ignore' });
  }
  env = await createBenchEnv(log);
  const benchEnv = env;
  // --db-role both: every scenario under the owner (no RLS), then under the app role, each with
  // a pipeline of its own, so the two differ in the role alone.
  const roles = options.dbRole === 'both' ? (['owner', 'app'] as const) : [options.dbRole];
  for (const role of roles) {
    // Message ids carry the run id: each role's pass sends its own, or the second pass's would be
    // the first's redelivered (and skipped by the inbox).
    const runEnv = roles.length > 1 ? { ...benchEnv, runId: `${benchEnv.runId}${role}` } : benchEnv;
    pipelines = new Pipelines(runEnv, {
      root,
      logDir: resultsDir,
      warmup: options.warmup,
      customers: options.customers,
      dbRole: role,
      serviceEnv: options.serviceEnv,
      tsx: options.tsx,
      gateway: options.gateway,
      log,
      ...(options.profile ? { profileDir } : {}),
    });
    const current = pipelines;
    const ctx: BenchContext = {
      options,
      env: runEnv,
      log,
      pipeline: (shape) => current.get(shape),
      ...(options.profile ? { profileDir } : {}),
    };
    if (roles.length > 1) log(`services as the ${role} role`);
    await runScenarios(ctx, roles.length > 1 ? `@${role}` : '');
    if (roles.length > 1) {
      await pipelines.stop();
      pipelines = undefined;
    }
  }
} catch (err) {
  failures.push({ scenario: '(setup)', error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
} finally {
  log('stopping services and cleaning up');
  await cleanup();
}

async function runScenarios(ctx: BenchContext, suffix: string): Promise<void> {
  for (const scenario of selected) {
    log(`▶ ${scenario.name}${suffix}: ${scenario.description}`);
    try {
      const result = await scenario.run(ctx);
      result.scenario += suffix;
      results.push(result);
      log(`  ${result.throughput} msg/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`);
    } catch (err) {
      failures.push({
        scenario: scenario.name,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      });
      log(`  failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

const targets = evaluateTargets(results, options.rate);
const base = results.find((r) => r.scenario === 'baseline');
const pipe = results.find((r) => r.scenario === 'pipeline');
const ratio = base && pipe && base.throughput > 0 ? round(pipe.throughput / base.throughput, 3) : null;
const command = `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`;
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version };

console.log(`\n${command}   (${machine.cpus} × ${machine.cpu}, Node ${machine.node}; everything on one machine)`);
const tuned = Object.entries(options.serviceEnv).map(([k, v]) => `${k}=${v}`);
console.log(tuned.length > 0 ? `services run with ${tuned.join(' ')}\n` : '');
console.log(formatTable(results));
console.log(`\n${formatCpuTable(results)}\n`);
const stages = formatStagesTable(results);
if (stages) console.log(`${stages}\n`);
for (const r of results) {
  console.log(`  ${r.scenario}: ${r.description}; ${r.notes.join('; ')}`);
  const counters = Object.entries(r.serviceMetrics).map(([k, v]) => `${k}=${v}`);
  if (counters.length > 0) console.log(`    ${counters.join(' ')}`);
  for (const w of r.warnings) console.log(`    warning: ${w}`);
  const { ours, machine, available } = r.cpu.cores;
  if (machine !== null && machine - ours > 0.25)
    console.log(
      `    warning: other processes kept ${(machine - ours).toFixed(2)} of ${available} cores busy during this run; its figures are pessimistic`,
    );
}
if (ratio !== null) console.log(`\npipeline / baseline throughput: ${ratio}`);
const rls = rlsCost(results);
if (rls.length > 0) console.log(`\nRow-Level Security (app role / owner role, CPU ms per message):\n${rls.join('\n')}`);
console.log(`\ntargets:\n${formatTargets(targets)}`);
for (const f of failures) console.log(`\n${f.scenario} FAILED:\n${f.error}`);
if (options.profile) console.log(`\nCPU profiles (${profileDir}):\n${summarizeProfiles(profileDir)}`);

const out = join(resultsDir, 'latest.json');
writeFileSync(
  out,
  `${JSON.stringify(
    { command, startedAt, finishedAt: new Date(), machine, options, results, ratio, rls, targets, failures },
    null,
    2,
  )}\n`,
);
console.log(`\nfull results: ${out}`);
const broken = failures.length > 0 || results.some((r) => correctnessProblems(r).length > 0);
process.exit(broken ? 1 : 0);
