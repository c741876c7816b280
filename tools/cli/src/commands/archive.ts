import { access } from 'node:fs/promises';
import { eraseCustomerData, restoreArchives } from '@switchboard/sync-worker/privacy';
import type { Command } from 'commander';
import { readEnv } from '../config.ts';
import { withPool } from '../connect.ts';
import { CliError } from '../errors.ts';

export function registerArchive(program: Command): void {
  const archive = program.command('archive').description('the archives the retention job writes before it deletes');

  archive
    .command('restore')
    .description(
      'insert the rows of retention archives (<dir>/<tenant>/<yyyy-mm-dd>.jsonl.gz) into the database, in one ' +
        'transaction; rows already there are skipped, erased customers are erased again',
    )
    .argument('<files...>', 'archive files, any order')
    .action(async (files: string[]) => {
      for (const f of files) await access(f).catch(() => Promise.reject(new CliError(`no archive ${f}`)));
      await withPool(readEnv().DATABASE_URL, async (pool) => {
        const r = await restoreArchives(pool, files, async (client, tenantId, customerId) => {
          await eraseCustomerData(client, tenantId, customerId);
        });
        for (const [table, n] of Object.entries(r.inserted)) console.log(`${table}  ${n}`);
        if (r.restoredColumns > 0) console.log(`columns restored  ${r.restoredColumns}`);
        if (r.reErased > 0) console.log(`erased customers erased again  ${r.reErased}`);
      });
    });
}
