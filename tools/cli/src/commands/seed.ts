import { DEV_API_TOKEN, devTenant, issueApiToken, seedTenant } from '@switchboard/db';
import { TOKEN_SCOPES } from '@switchboard/domain';
import type { Command } from 'commander';
import { readEnv } from '../config.ts';
import { withDb } from '../connect.ts';

export function registerSeed(program: Command): void {
  program
    .command('seed')
    .description(
      `create the development tenant "${devTenant.slug}" and its channels (and an API token with every scope outside production); safe to run again`,
    )
    .action(async () => {
      const env = readEnv();
      await withDb(env.DATABASE_URL, async (db) => {
        const seeded = await seedTenant(db, devTenant);
        console.log(`seeded tenant ${devTenant.slug} (${seeded.tenantId})`);
        // A well-known token is a development convenience only, like the dev webhook secrets.
        if (env.NODE_ENV !== 'production') {
          await issueApiToken(db, seeded.tenantId, 'development', { token: DEV_API_TOKEN, scopes: TOKEN_SCOPES });
          console.log(`API token for ${devTenant.slug} (${TOKEN_SCOPES.join(', ')}): ${DEV_API_TOKEN}`);
        }
      });
    });
}
