import { issueApiToken, listApiTokens, revokeApiToken } from '@switchboard/db';
import { parseTokenScopes, TOKEN_SCOPES, type TokenScope } from '@switchboard/domain';
import { type Command, InvalidArgumentError } from 'commander';
import { slug, uuid } from '../args.ts';
import { readEnv } from '../config.ts';
import { confirm } from '../confirm.ts';
import { withDb } from '../connect.ts';
import { CliError } from '../errors.ts';
import { requireTenant } from '../tenant.ts';

export function registerApiTokens(program: Command): void {
  const tokens = program.command('api-tokens').description("bearer tokens for a tenant's APIs, with their scopes");

  tokens
    .command('issue')
    .description('print a new token once; only its hash is stored')
    .requiredOption('--tenant <slug>', 'the tenant', slug)
    .requiredOption('--name <name>', 'what it is for')
    .option('--scopes <list>', `what it may do, comma-separated: ${TOKEN_SCOPES.join(', ')}`, scopes, ['read'])
    .action(async (o: { tenant: string; name: string; scopes: TokenScope[] }) => {
      await withDb(readEnv().DATABASE_URL, async (db) => {
        const issued = await issueApiToken(db, await requireTenant(db, o.tenant), o.name, { scopes: o.scopes });
        console.log(`token ${issued.id} (${o.scopes.join(',')}): ${issued.token}`);
      });
    });

  tokens
    .command('list')
    .description("the tenant's tokens (never the tokens themselves)")
    .requiredOption('--tenant <slug>', 'the tenant', slug)
    .action(async (o: { tenant: string }) => {
      await withDb(readEnv().DATABASE_URL, async (db) => {
        for (const t of await listApiTokens(db, await requireTenant(db, o.tenant))) {
          const revoked = t.revokedAt ? '  REVOKED' : '';
          console.log(`${t.id}  ${t.name}  ${t.scopes.join(',')}  created ${t.createdAt.toISOString()}${revoked}`);
        }
      });
    });

  tokens
    .command('revoke')
    .description("the token stops working within the API's cache TTL")
    .requiredOption('--id <uuid>', 'the token id (from list)', uuid)
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (o: { id: string; yes?: boolean }) => {
      await confirm(`revoke API token ${o.id}`, o.yes);
      await withDb(readEnv().DATABASE_URL, async (db) => {
        if (!(await revokeApiToken(db, o.id))) throw new CliError('no such active token');
        console.log('revoked');
      });
    });
}

function scopes(value: string): TokenScope[] {
  const parsed = parseTokenScopes(value);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.error);
  return parsed.scopes;
}
