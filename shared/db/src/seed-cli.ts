import { z } from 'zod';
import { DEV_API_TOKEN, issueApiToken } from './api-tokens.ts';
import { createDb } from './client.ts';
import { devTenant, seedTenant } from './seed.ts';

const { DATABASE_URL, NODE_ENV } = z
  .object({
    DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/switchboard'),
    NODE_ENV: z.string().default('development'),
  })
  .parse(process.env);

const { pool, db } = createDb(DATABASE_URL, { max: 1 });
try {
  const seeded = await seedTenant(db, devTenant);
  console.log(`seeded tenant ${devTenant.slug} (${seeded.tenantId})`);
  // A well-known token is a development convenience only, like the dev webhook secrets.
  if (NODE_ENV !== 'production') {
    await issueApiToken(db, seeded.tenantId, 'development', DEV_API_TOKEN);
    console.log(`read API token for ${devTenant.slug}: ${DEV_API_TOKEN}`);
  }
} finally {
  await pool.end();
}
