import { migrateDatabase } from '@switchboard/db';
import type { Command } from 'commander';
import { readEnv } from '../config.ts';
import { orUnreachable } from '../connect.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description(
      'create the database if missing and apply the migrations from MIGRATIONS_DIR (default: shared/db/migrations); safe to run again',
    )
    .action(async () => {
      const env = readEnv();
      await migrateDatabase(env.DATABASE_URL, { folder: env.MIGRATIONS_DIR }).catch(
        orUnreachable('Postgres', env.DATABASE_URL),
      );
      console.log(`migrated ${new URL(env.DATABASE_URL).pathname.slice(1)}`);
    });
}
