import { asTenantClient, transaction } from '@switchboard/db';
import { type RetentionPart, type RetentionPolicy, retentionCutoff } from '@switchboard/domain';
import type { Logger } from '@switchboard/platform';
import type pg from 'pg';
import type { LookupCache } from '../lookup-cache.ts';
import type { Metrics } from '../metrics.ts';
import {
  lockDueConversations,
  oldestDue,
  RESTORE_ORDER,
  type RemovedRow,
  removePart,
} from '../store/retention-parts.ts';
import { readRetentionPolicy } from '../store/retention-policy.ts';
import { type ArchiveLine, appendArchive, archivePath } from './archive-file.ts';

export interface ExpireDeps {
  pool: pg.Pool;
  logger: Logger;
  metrics: Pick<Metrics, 'retentionRows' | 'retentionLag' | 'retentionFailures'>;
  now: () => Date;
  lookups?: Pick<LookupCache, 'invalidate'> | undefined;
}

export interface ExpireOptions {
  /** Where the archives go: `<dir>/<tenant>/<yyyy-mm-dd>.jsonl.gz`. */
  archiveDir: string;
  /** Most conversations one transaction (and one archive member) covers. */
  batchSize: number;
}

/** Shorter periods first, the conversation last: each part finds what the earlier ones left. */
const PART_ORDER: RetentionPart[] = [
  'mediaDays',
  'emailBodyDays',
  'statusHistoryDays',
  'leadDays',
  'messageDays',
  'conversationDays',
];

const rank = new Map<string, number>(RESTORE_ORDER.map((t, i) => [t, i]));
const opRank = { context: 0, row: 1, set: 2 } as const;

/** Parents first, so the archive reads in the order a restore inserts. */
export const archiveOrder = (rows: RemovedRow[]) =>
  [...rows].sort((a, b) => (rank.get(a.table) ?? 99) - (rank.get(b.table) ?? 99) || opRank[a.op] - opRank[b.op]);

const toLine = (r: RemovedRow): ArchiveLine =>
  r.op === 'set'
    ? { op: 'set', table: r.table, key: r.key ?? {}, row: r.row }
    : { op: r.op, table: r.table, row: r.row };

/**
 * One batch of one part of one tenant, in one transaction: lock up to `batchSize` due
 * conversations, remove the part's rows (returning them), write them to the archive durably, then
 * commit. The archive is on disk before the deletion commits; a crash in between rolls the
 * deletion back and the next run archives the rows again. The tenant's advisory lock keeps two
 * runs (an overlap across replicas) from writing one archive file at once. Returns how many
 * conversations it covered.
 */
async function expireBatch(
  deps: ExpireDeps,
  opts: ExpireOptions,
  tenantId: string,
  part: RetentionPart,
  cutoff: Date,
  at: Date,
): Promise<number> {
  const removed: RemovedRow[] = [];
  let keys = '';
  const n = await transaction(
    deps.pool,
    async (_tx, client) => {
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [`switchboard.retention:${tenantId}`]);
      const ids = await lockDueConversations(client, part, tenantId, cutoff, opts.batchSize);
      if (ids.length === 0) return 0;
      removed.push(...archiveOrder(await removePart(client, part, tenantId, ids)));
      const header: ArchiveLine = { op: 'batch', tenantId, part, at: at.toISOString(), conversations: ids.length };
      await appendArchive(archivePath(opts.archiveDir, tenantId, at), [header, ...removed.map(toLine)]);
      const res = await client.query<{ k: string | null }>(
        "select current_setting('switchboard.lookup_keys', true) as k",
      );
      keys = res.rows[0]?.k ?? '';
      return ids.length;
    },
    { tenantId },
  );
  for (const r of removed) {
    if (r.op !== 'context')
      deps.metrics.retentionRows.inc({ table: r.table, action: r.op === 'row' ? 'deleted' : 'cleared' });
  }
  const touched = keys.split('\n').filter((k) => k.length > 0);
  if (touched.length > 0) await deps.lookups?.invalidate(touched);
  return n;
}

async function expireTenant(
  deps: ExpireDeps,
  opts: ExpireOptions,
  tenantId: string,
  policy: RetentionPolicy,
  at: Date,
) {
  let conversations = 0;
  for (const part of PART_ORDER) {
    const cutoff = retentionCutoff(policy, part, at);
    for (;;) {
      const n = await expireBatch(deps, opts, tenantId, part, cutoff, at);
      conversations += n;
      if (n < opts.batchSize) break;
    }
  }
  if (conversations > 0) deps.logger.info({ tenantId, conversations }, 'archived and removed expired data');
}

/**
 * Every tenant's policy, each read under its own tenant (Row-Level Security hides a policy from a
 * statement that runs under none): the tenants themselves are a system table, visible to all.
 */
async function tenantPolicies(pool: pg.Pool): Promise<Array<{ tenantId: string; policy: RetentionPolicy }>> {
  const tenants = await pool.query<{ id: string }>('select id from tenants order by id');
  const out: Array<{ tenantId: string; policy: RetentionPolicy }> = [];
  for (const { id } of tenants.rows) {
    const { policy } = await asTenantClient(pool, id, (client) => readRetentionPolicy(client, id));
    out.push({ tenantId: id, policy });
  }
  return out;
}

/** How far the store is behind the policies: the longest any due part has waited past its cutoff. */
export async function measureRetentionLag(deps: Pick<ExpireDeps, 'pool' | 'now'>): Promise<number> {
  const at = deps.now();
  let lag = 0;
  for (const { tenantId, policy } of await tenantPolicies(deps.pool)) {
    for (const part of PART_ORDER) {
      const cutoff = retentionCutoff(policy, part, at);
      const oldest = await asTenantClient(deps.pool, tenantId, (client) => oldestDue(client, part, tenantId, cutoff));
      if (oldest) lag = Math.max(lag, (cutoff.getTime() - new Date(oldest).getTime()) / 1000);
    }
  }
  return lag;
}

/**
 * The retention job: for every tenant, every part of its closed conversations past the tenant's
 * policy is archived, then removed, in batches. Scheduled once per period across replicas
 * (jobs/sweeps.ts); a second run finds nothing due. Afterwards the lag gauge says how far behind
 * the policy the store still is (0 when caught up), measured even when the run failed.
 */
export async function expireRetainedData(deps: ExpireDeps, opts: ExpireOptions): Promise<void> {
  const at = deps.now();
  try {
    for (const { tenantId, policy } of await tenantPolicies(deps.pool))
      await expireTenant(deps, opts, tenantId, policy, at);
  } catch (err) {
    deps.metrics.retentionFailures.inc();
    throw err;
  } finally {
    await measureRetentionLag(deps)
      .then((lag) => deps.metrics.retentionLag.set(lag))
      .catch((err: unknown) => deps.logger.warn({ err }, 'could not measure the retention lag'));
  }
}
