import {
  addChannel,
  CHANNEL_PROVIDERS,
  type ChannelProvider,
  disableChannel,
  enableChannel,
  listChannels,
  newChannelSecret,
  rotateChannelSecret,
} from '@switchboard/db';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { integer, slug, uuid } from '../args.ts';
import { readEnv } from '../config.ts';
import { confirm } from '../confirm.ts';
import { withDb } from '../connect.ts';
import { CliError, usageError } from '../errors.ts';
import { requireTenant } from '../tenant.ts';

const secretOf = (value: string) => {
  if (value.length < 16) throw new InvalidArgumentError('a secret has at least 16 characters.');
  return value;
};
const newSecret = (o: { secret?: string; generateSecret?: boolean }) =>
  o.secret ?? (o.generateSecret ? newChannelSecret() : undefined);
const notFound = () => new CliError('no such channel (see: switchboard channels list --tenant <slug>)');

export function registerChannels(program: Command): void {
  const channels = program
    .command('channels')
    .description("a tenant's provider accounts (WhatsApp number, Mailgun domain, …) and their webhook secrets");

  channels
    .command('add')
    .description('register a provider account for a tenant')
    .requiredOption('--tenant <slug>', 'the tenant', slug)
    .addOption(new Option('--provider <provider>', 'the provider').choices(CHANNEL_PROVIDERS).makeOptionMandatory())
    .requiredOption('--account <id>', "the provider's account id (phone_number_id, domain, integration id)")
    .option('--secret <secret>', 'its webhook secret (at least 16 characters)', secretOf)
    .option('--generate-secret', 'generate its webhook secret')
    .action(
      async (o: {
        tenant: string;
        provider: ChannelProvider;
        account: string;
        secret?: string;
        generateSecret?: boolean;
      }) => {
        if (o.secret && o.generateSecret) throw usageError('--secret and --generate-secret exclude each other');
        const secret = newSecret(o);
        await withDb(readEnv().DATABASE_URL, async (db) => {
          const tenantId = await requireTenant(db, o.tenant);
          const { id } = await addChannel(db, {
            tenantId,
            provider: o.provider,
            accountId: o.account,
            ...(secret ? { secret } : {}),
          });
          console.log(`channel ${id}${secret ? `  secret: ${secret}` : '  (uses the env default secret)'}`);
        });
      },
    );

  channels
    .command('list')
    .description("a tenant's channels with their status and number of valid secrets (never the secrets)")
    .requiredOption('--tenant <slug>', 'the tenant', slug)
    .action(async (o: { tenant: string }) => {
      await withDb(readEnv().DATABASE_URL, async (db) => {
        for (const c of await listChannels(db, await requireTenant(db, o.tenant))) {
          const secrets = c.secrets ? `${c.secrets} secret(s)` : 'env default secret';
          console.log(`${c.id}  ${c.provider}  ${c.accountId}  ${c.status}  ${secrets}`);
        }
      });
    });

  channels
    .command('rotate-secret')
    .description('print a new secret once; the old one keeps verifying until the grace period ends')
    .requiredOption('--id <uuid>', 'the channel', uuid)
    .option('--grace-hours <hours>', 'how long the old secret keeps working', integer(0, 720), 24)
    .option('--secret <secret>', 'the new secret instead of a generated one', secretOf)
    .action(async (o: { id: string; graceHours: number; secret?: string }) => {
      await withDb(readEnv().DATABASE_URL, async (db) => {
        const rotated = await rotateChannelSecret(db, o.id, o.graceHours * 3_600_000, o.secret);
        if (!rotated) throw notFound();
        console.log(`new secret: ${rotated.secret}`);
      });
    });

  channels
    .command('disable')
    .description('stop applying its events: the sync-worker parks them from then on')
    .requiredOption('--id <uuid>', 'the channel', uuid)
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (o: { id: string; yes?: boolean }) => {
      await confirm(`disable channel ${o.id}`, o.yes);
      await withDb(readEnv().DATABASE_URL, async (db) => {
        if (!(await disableChannel(db, o.id))) throw notFound();
        console.log('disabled');
      });
    });

  channels
    .command('enable')
    .description('active again; replay what was parked meanwhile with `switchboard dlq replay`')
    .requiredOption('--id <uuid>', 'the channel', uuid)
    .action(async (o: { id: string }) => {
      await withDb(readEnv().DATABASE_URL, async (db) => {
        if (!(await enableChannel(db, o.id))) throw notFound();
        console.log('enabled; replay its parked events with: switchboard dlq replay sync-worker.inbound.parked');
      });
    });
}
