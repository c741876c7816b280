import { createLogger, switchboardTopology } from '@switchboard/platform';
import { eraseCustomer } from '@switchboard/sync-worker/privacy';
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { slug, uuid } from '../args.ts';
import { readEnv } from '../config.ts';
import { confirm } from '../confirm.ts';
import { withPool } from '../connect.ts';
import { CliError } from '../errors.ts';
import { requireTenant } from '../tenant.ts';

export function registerCustomers(program: Command): void {
  const customers = program.command('customers').description("a tenant's customers");

  customers
    .command('erase')
    .description(
      "GDPR erasure: the customer's personal data everywhere (database, outbox, lookup cache); " +
        'anonymous counts stay; publishes customer.erased once; asking again resumes or changes nothing',
    )
    .requiredOption('--tenant <slug>', 'the tenant', slug)
    .requiredOption('--id <uuid>', 'the customer id', uuid)
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (o: { tenant: string; id: string; yes?: boolean }) => {
      await confirm(`erase customer ${o.id} of ${o.tenant}`, o.yes);
      const env = readEnv();
      const redis = new Redis(env.REDIS_URL, {
        keyPrefix: env.REDIS_KEY_PREFIX,
        maxRetriesPerRequest: 1,
        lazyConnect: true,
      });
      redis.on('error', () => undefined);
      try {
        await withPool(env.DATABASE_URL, async (pool, db) => {
          const tenantId = await requireTenant(db, o.tenant);
          const r = await eraseCustomer(
            {
              pool,
              redis,
              lookupTtlSeconds: env.LOOKUP_CACHE_TTL_SECONDS,
              eventsExchange: switchboardTopology(env.AMQP_NAMESPACE).names.events,
              logger: createLogger('switchboard-cli', 'silent'),
              now: () => new Date(),
            },
            tenantId,
            o.id,
          );
          switch (r.kind) {
            case 'not_found':
              throw new CliError(`no customer ${o.id} in tenant ${o.tenant}`);
            case 'cache_pending':
              throw new CliError('erased in the database; the lookup cache purge failed (is Redis up?): run it again');
            case 'erased':
              console.log(`erased (event ${r.eventId})`);
              break;
            case 'already_erased':
              console.log(`already erased on ${r.erasedAt.toISOString()}; nothing changed`);
              break;
            default: {
              const never: never = r;
              return never;
            }
          }
        });
      } finally {
        redis.disconnect();
      }
    });
}
