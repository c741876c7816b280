import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import {
  addChannel,
  CHANNEL_PROVIDERS,
  disableChannel,
  enableChannel,
  listChannels,
  newChannelSecret,
  rotateChannelSecret,
} from './channel-registry.ts';
import { createDb } from './client.ts';
import { tenants } from './schema/index.ts';

const usage = `usage: npm run channels -- <command>
  add --tenant <slug> --provider <${CHANNEL_PROVIDERS.join('|')}> --account <account id> [--secret <s> | --generate-secret]
  list --tenant <slug>                          channels with their status and number of valid secrets (never the secrets)
  rotate-secret --id <channel id> [--grace-hours <h, default 24>] [--secret <s>]
                                                prints the new secret once; the old one verifies until the grace period ends
  disable --id <channel id>                     its events are parked by the worker from then on
  enable --id <channel id>                      active again; replay what was parked with npm run dlq`;

const { DATABASE_URL } = z
  .object({ DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/switchboard') })
  .parse(process.env);

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    provider: { type: 'string' },
    account: { type: 'string' },
    secret: { type: 'string' },
    'generate-secret': { type: 'boolean' },
    id: { type: 'string' },
    'grace-hours': { type: 'string' },
  },
});
const fail = (message: string): never => {
  console.error(`${message}\n${usage}`);
  process.exit(2);
};
const secretArg = () => {
  const s = values.secret ?? (values['generate-secret'] ? newChannelSecret() : undefined);
  if (s !== undefined && s.length < 16) fail('a secret has at least 16 characters');
  return s;
};

const { pool, db } = createDb(DATABASE_URL, { max: 1, applicationName: 'channels-cli' });
try {
  const tenantId = async () => {
    const slug = values.tenant ?? fail('--tenant is required');
    const [t] = await db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug));
    return t?.id ?? fail(`no tenant ${slug}`);
  };
  switch (positionals[0]) {
    case 'add': {
      const provider = z.enum(CHANNEL_PROVIDERS).safeParse(values.provider);
      if (!provider.success) fail('--provider must be one of the providers');
      const secret = secretArg();
      const { id } = await addChannel(db, {
        tenantId: await tenantId(),
        provider: provider.data as (typeof CHANNEL_PROVIDERS)[number],
        accountId: values.account ?? fail('--account is required'),
        ...(secret ? { secret } : {}),
      });
      console.log(`channel ${id}${secret ? `  secret: ${secret}` : '  (uses the env default secret)'}`);
      break;
    }
    case 'list':
      for (const c of await listChannels(db, await tenantId())) {
        console.log(
          `${c.id}  ${c.provider}  ${c.accountId}  ${c.status}  ${c.secrets ? `${c.secrets} secret(s)` : 'env default secret'}`,
        );
      }
      break;
    case 'rotate-secret': {
      const hours = z.coerce
        .number()
        .min(0)
        .max(24 * 30)
        .safeParse(values['grace-hours'] ?? '24');
      if (!hours.success) fail('--grace-hours must be a number of hours between 0 and 720');
      const rotated = await rotateChannelSecret(
        db,
        values.id ?? fail('--id is required'),
        (hours.data as number) * 3_600_000,
        secretArg(),
      );
      if (!rotated) fail('no such channel');
      console.log(`new secret: ${rotated?.secret}`);
      break;
    }
    case 'disable':
      if (!(await disableChannel(db, values.id ?? fail('--id is required')))) fail('no such channel');
      console.log('disabled');
      break;
    case 'enable':
      if (!(await enableChannel(db, values.id ?? fail('--id is required')))) fail('no such channel');
      console.log('enabled; replay its parked events with: npm run dlq -- replay sync-worker.inbound.parked');
      break;
    default:
      fail(positionals[0] ? `unknown command ${positionals[0]}` : 'a command is required');
  }
} finally {
  await pool.end();
}
