import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { issueApiToken, listApiTokens, revokeApiToken } from './api-tokens.ts';
import { createDb } from './client.ts';
import { tenants } from './schema/index.ts';

const usage = `usage: npm run api-tokens -- <command>
  issue --tenant <slug> --name <what it is for>   prints a new token once; only its hash is stored
  list --tenant <slug>                             the tenant's tokens (never the tokens themselves)
  revoke --id <token id>                           the token stops working within the API's cache TTL`;

const { DATABASE_URL } = z
  .object({ DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/switchboard') })
  .parse(process.env);

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { tenant: { type: 'string' }, name: { type: 'string' }, id: { type: 'string' } },
});
const fail = (message: string): never => {
  console.error(`${message}\n${usage}`);
  process.exit(2);
};

const { pool, db } = createDb(DATABASE_URL, { max: 1, applicationName: 'api-tokens-cli' });
try {
  const tenantId = async () => {
    const slug = values.tenant ?? fail('--tenant is required');
    const [t] = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug));
    return t?.id ?? fail(`no tenant ${slug}`);
  };
  switch (positionals[0]) {
    case 'issue': {
      const issued = await issueApiToken(db, await tenantId(), values.name ?? fail('--name is required'));
      console.log(`token ${issued.id}: ${issued.token}`);
      break;
    }
    case 'list':
      for (const t of await listApiTokens(db, await tenantId())) {
        console.log(`${t.id}  ${t.name}  created ${t.createdAt.toISOString()}${t.revokedAt ? '  REVOKED' : ''}`);
      }
      break;
    case 'revoke':
      if (!(await revokeApiToken(db, values.id ?? fail('--id is required')))) fail('no such active token');
      console.log('revoked');
      break;
    default:
      fail(positionals[0] ? `unknown command ${positionals[0]}` : 'a command is required');
  }
} finally {
  await pool.end();
}
