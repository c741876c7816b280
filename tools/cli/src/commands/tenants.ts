import { createTenant, disableTenantChannels, listTenants } from '@switchboard/db';
import type { Command } from 'commander';
import { slug, timeZone } from '../args.ts';
import { readEnv } from '../config.ts';
import { confirm } from '../confirm.ts';
import { withDb } from '../connect.ts';
import { CliError } from '../errors.ts';
import { requireTenant } from '../tenant.ts';

export function registerTenants(program: Command): void {
  const tenants = program.command('tenants').description('create, list and disable tenants');

  tenants
    .command('create')
    .description('create a tenant; add its channels with `switchboard channels add`')
    .requiredOption('--slug <slug>', 'its short name, used by the other commands', slug)
    .requiredOption('--name <name>', 'its display name')
    .option('--time-zone <zone>', 'IANA time zone for its business hours (default UTC)', timeZone)
    .action(async (o: { slug: string; name: string; timeZone?: string }) => {
      await withDb(readEnv().DATABASE_URL, async (db) => {
        const id = await createTenant(db, o);
        if (!id) throw new CliError(`a tenant ${o.slug} exists already`);
        console.log(`tenant ${id}  ${o.slug}`);
      });
    });

  tenants
    .command('list')
    .description('every tenant with its number of active channels')
    .action(async () => {
      await withDb(readEnv().DATABASE_URL, async (db) => {
        for (const t of await listTenants(db)) {
          const state = t.channels > 0 && t.activeChannels === 0 ? 'disabled' : 'active';
          console.log(
            `${t.id}  ${t.slug}  ${state}  ${t.activeChannels}/${t.channels} channel(s) active  ${t.timeZone}  ${t.name}`,
          );
        }
      });
    });

  tenants
    .command('disable')
    .description(
      'disable every channel of the tenant: its inbound events are parked from then on (enable a channel and replay them with `dlq replay`)',
    )
    .argument('<slug>', 'the tenant', slug)
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (tenant: string, o: { yes?: boolean }) => {
      await withDb(readEnv().DATABASE_URL, async (db) => {
        const id = await requireTenant(db, tenant);
        await confirm(`disable tenant ${tenant} and all its channels`, o.yes);
        const n = await disableTenantChannels(db, id);
        console.log(`disabled ${tenant}: ${n} channel(s) disabled`);
      });
    });
}
