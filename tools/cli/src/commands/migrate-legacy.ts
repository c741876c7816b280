import {
  apply,
  dryRun,
  hasProblems,
  loadJsonLines,
  type Progress,
  rollback,
  type Source,
  tableSource,
  type VerifyReport,
  verify,
} from '@switchboard/db/legacy';
import { SingleBar } from 'cli-progress';
import { type Command, Option } from 'commander';
import type pg from 'pg';
import { integer } from '../args.ts';
import { readEnv } from '../config.ts';
import { confirm } from '../confirm.ts';
import { withPgClient } from '../connect.ts';
import { usageError } from '../errors.ts';

interface Options {
  dryRun?: boolean;
  apply?: boolean;
  rollback?: boolean;
  verify?: boolean;
  table?: string;
  file?: string;
  batch: number;
  yes?: boolean;
}
const MODES = ['dryRun', 'apply', 'rollback', 'verify'] as const;

const bar = (label: string): Progress => {
  const b = new SingleBar({
    format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
    hideCursor: true,
    noTTYOutput: true,
    notTTYSchedule: 5_000,
  });
  return { start: (total) => b.start(total, 0), advance: (n) => b.increment(n), stop: () => b.stop() };
};

function print(r: VerifyReport) {
  const table = (rows: Array<{ status: string; count: number }>) =>
    rows.length === 0 ? '    (none)' : rows.map((x) => `    ${x.status.padEnd(18)} ${x.count}`).join('\n');
  console.log(`legacy records per status (before):\n${table(r.source)}`);
  console.log(`imported conversations per status (after):\n${table(r.imported)}`);
  console.log(`expected from the mapping:\n${table(r.expected)}`);
  console.log(`not yet imported: ${r.pending}`);
  for (const p of r.problems) {
    const sample = p.sample.length ? ` (e.g. ${p.sample.join(', ')})` : '';
    console.log(`${p.count === 0 ? 'ok  ' : 'FAIL'} ${p.check}: ${p.count}${sample}`);
  }
}

/** Runs one mode; returns the exit code (verify exits 1 when it finds problems). */
async function run(client: pg.Client, mode: (typeof MODES)[number], o: Options): Promise<number> {
  const src: Source = o.file ? await loadJsonLines(client, o.file) : tableSource(o.table ?? 'legacy_conversations');
  switch (mode) {
    case 'dryRun':
      for (const r of await dryRun(client, src)) {
        console.log(`${r.status.padEnd(10)} → ${r.mapsTo.padEnd(8)} ${r.count} records, ${r.pending} not yet imported`);
      }
      console.log('dry run: nothing was written');
      return 0;
    case 'apply': {
      const r = await apply(client, src, { batchSize: o.batch, progress: bar('importing') });
      console.log(
        `imported ${r.imported}, refused ${r.problems} (see --verify), history backfilled for ${r.backfilled}`,
      );
      return 0;
    }
    case 'rollback': {
      const r = await rollback(client, src, { batchSize: o.batch, progress: bar('rolling back') });
      console.log(`removed ${r.removed} imported records and ${r.backfillRemoved} backfilled history rows`);
      return 0;
    }
    case 'verify': {
      const r = await verify(client, src);
      print(r);
      return hasProblems(r) ? 1 : 0;
    }
  }
}

export function registerMigrateLegacy(program: Command): void {
  program
    .command('migrate-legacy')
    .description('import conversations with the legacy 5-value status (seed 000/002): exactly one mode')
    .option('--dry-run', 'count what would be imported; writes nothing')
    .option('--apply', 'import, in batches; safe to run again')
    .option('--rollback', 'remove what --apply imported (asks first)')
    .option('--verify', 'compare before and after; exit 1 on any problem')
    .addOption(
      new Option('--table <name>', 'a Postgres table of legacy records (default legacy_conversations)').conflicts(
        'file',
      ),
    )
    .option('--file <path.jsonl>', 'a JSON-lines file of legacy records (same fields as the table)')
    .option('--batch <n>', 'records per transaction', integer(1, 100_000), 5_000)
    .option('-y, --yes', 'do not ask before --rollback')
    .action(async (o: Options) => {
      const modes = MODES.filter((m) => o[m]);
      const [mode] = modes;
      if (modes.length !== 1 || !mode) throw usageError('give exactly one of --dry-run, --apply, --rollback, --verify');
      if (mode === 'rollback') await confirm('remove every imported legacy conversation', o.yes);
      process.exitCode = await withPgClient(readEnv().DATABASE_URL, (client) => run(client, mode, o));
    });
}
