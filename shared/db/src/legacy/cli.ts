import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import pg from 'pg';
import { z } from 'zod';
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
} from './migrate.ts';

const usage = `usage: npm run migrate:legacy -- <--dry-run | --apply | --rollback | --verify> [--table <name> | --file <path.jsonl>] [--batch <n>]
  --table   a Postgres table of legacy records (default legacy_conversations)
  --file    a JSON-lines file of legacy records (one object per line, same fields as the table)
  --batch   records per transaction (default 5000)`;

const { values } = parseArgs({
  options: {
    'dry-run': { type: 'boolean' },
    apply: { type: 'boolean' },
    rollback: { type: 'boolean' },
    verify: { type: 'boolean' },
    table: { type: 'string' },
    file: { type: 'string' },
    batch: { type: 'string' },
  },
});
const modes = (['dry-run', 'apply', 'rollback', 'verify'] as const).filter((m) => values[m]);
if (modes.length !== 1 || (values.table && values.file)) {
  console.error(usage);
  process.exit(2);
}
const batchSize = z.coerce
  .number()
  .int()
  .min(1)
  .max(100_000)
  .parse(values.batch ?? 5_000);
const { DATABASE_URL } = z
  .object({ DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/switchboard') })
  .parse(process.env);

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
    console.log(
      `${p.count === 0 ? 'ok  ' : 'FAIL'} ${p.check}: ${p.count}${p.sample.length ? ` (e.g. ${p.sample.join(', ')})` : ''}`,
    );
  }
}

const client = new pg.Client({ connectionString: DATABASE_URL, application_name: 'migrate-legacy' });
await client.connect();
let code = 0;
try {
  const src: Source = values.file
    ? await loadJsonLines(client, values.file)
    : tableSource(values.table ?? 'legacy_conversations');
  switch (modes[0]) {
    case 'dry-run':
      for (const r of await dryRun(client, src)) {
        console.log(`${r.status.padEnd(10)} → ${r.mapsTo.padEnd(8)} ${r.count} records, ${r.pending} not yet imported`);
      }
      console.log('dry run: nothing was written');
      break;
    case 'apply': {
      const r = await apply(client, src, { batchSize, progress: bar('importing') });
      console.log(
        `imported ${r.imported}, refused ${r.problems} (see --verify), history backfilled for ${r.backfilled}`,
      );
      break;
    }
    case 'rollback': {
      const r = await rollback(client, src, { batchSize, progress: bar('rolling back') });
      console.log(`removed ${r.removed} imported records and ${r.backfillRemoved} backfilled history rows`);
      break;
    }
    case 'verify': {
      const r = await verify(client, src);
      print(r);
      code = hasProblems(r) ? 1 : 0;
      break;
    }
  }
} catch (err) {
  console.error(`migrate:legacy: ${(err as Error).message}`);
  code = 1;
} finally {
  await client.end();
}
process.exit(code);
