import { z } from 'zod';
import { createDb } from './client.ts';
import { devTenant, seedTenant } from './seed.ts';

const { DATABASE_URL } = z
  .object({ DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/switchboard') })
  .parse(process.env);

const { pool, db } = createDb(DATABASE_URL, { max: 1 });
try {
  const seeded = await seedTenant(db, devTenant);
  console.log(`seeded tenant ${devTenant.slug} (${seeded.tenantId})`);
} finally {
  await pool.end();
}
