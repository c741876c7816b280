import { changeRetentionPolicy, MAX_RETENTION_DAYS, RETENTION_PARTS, type RetentionPart } from '@switchboard/domain';
import { readRetentionPolicy, writeRetentionPolicy } from '@switchboard/sync-worker/privacy';
import type { Command } from 'commander';
import { integer, slug } from '../args.ts';
import { readEnv } from '../config.ts';
import { withPool } from '../connect.ts';
import { CliError } from '../errors.ts';
import { requireTenant } from '../tenant.ts';

/** `--message-days` for `messageDays`. */
const flag = (part: RetentionPart) => `--${part.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function registerRetention(program: Command): void {
  const retention = program
    .command('retention')
    .description("a tenant's retention policy: days after a conversation closed that each part of it is kept");

  retention
    .command('show')
    .description('the policy in force (the defaults until one is set)')
    .requiredOption('--tenant <slug>', 'the tenant', slug)
    .action(async (o: { tenant: string }) => {
      await withPool(readEnv().DATABASE_URL, async (pool, db) => {
        const r = await readRetentionPolicy(pool, await requireTenant(db, o.tenant));
        for (const part of RETENTION_PARTS) console.log(`${part}  ${r.policy[part]}`);
        if (!r.custom) console.log('(defaults)');
      });
    });

  const set = retention
    .command('set')
    .description('change any of the periods; the policy is checked as a whole (no part outlives its conversation)')
    .requiredOption('--tenant <slug>', 'the tenant', slug);
  for (const part of RETENTION_PARTS)
    set.option(`${flag(part)} <days>`, `${part} (1..${MAX_RETENTION_DAYS})`, integer(1, MAX_RETENTION_DAYS));
  set.action(async (o: { tenant: string } & Partial<Record<RetentionPart, number>>) => {
    await withPool(readEnv().DATABASE_URL, async (pool, db) => {
      const tenantId = await requireTenant(db, o.tenant);
      const change = Object.fromEntries(RETENTION_PARTS.flatMap((p) => (o[p] === undefined ? [] : [[p, o[p]]])));
      const next = changeRetentionPolicy((await readRetentionPolicy(pool, tenantId)).policy, change);
      if (next.kind === 'reject') throw new CliError(next.reason);
      await writeRetentionPolicy(pool, tenantId, next.policy);
      for (const part of RETENTION_PARTS) console.log(`${part}  ${next.policy[part]}`);
    });
  });
}
