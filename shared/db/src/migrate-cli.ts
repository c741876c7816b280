import { z } from 'zod';
import { migrateDatabase } from './migrate.ts';

const { DATABASE_URL } = z
  .object({ DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/switchboard') })
  .parse(process.env);

await migrateDatabase(DATABASE_URL);
console.log(`migrated ${new URL(DATABASE_URL).pathname.slice(1)}`);
