import type { Database } from '@switchboard/db';
import { allTenantIds, asTenant, pruneInbox, pruneOutbox } from '@switchboard/db';
import type { Logger } from '@switchboard/platform';
import type pg from 'pg';
import type { Metrics } from './metrics.ts';
import { expireHeldDeliveryStatuses } from './store/held-delivery-statuses.ts';

export interface RetentionOptions {
  db: Database;
  pool: pg.Pool;
  logger: Logger;
  metrics: Pick<Metrics, 'heldStatusesExpired'>;
  now: () => Date;
  /** Published events are kept this long for replay and audit. */
  outboxRetentionMs: number;
  /**
   * Applied event ids are kept this long; it must outlast any redelivery, including a replay
   * from the dead-letter queue (past it, the provider-id unique indexes still stop a double insert).
   */
  inboxRetentionMs: number;
  /**
   * A status held for a message that has not arrived after this long is dropped: its message is
   * not coming (the held rows would otherwise pile up forever). It must outlast the ways a message
   * still arrives late: the retry ladder, a replay from the dead-letter or parking queue, a
   * downstream sender's dispatch report.
   */
  heldStatusRetentionMs: number;
}

/** Most held statuses one statement deletes, so a first sweep over a backlog holds no long lock. */
const EXPIRE_BATCH = 5_000;

/**
 * One pass: prunes the inbox and the published outbox, and expires old held statuses. (The
 * per-tenant retention of conversations, with its archives, is retention/expire.ts.) Run once per
 * `RETENTION_EVERY_MS` across replicas by the scheduler (jobs/schedule.ts); a second run is harmless.
 */
export async function prune(opts: RetentionOptions): Promise<void> {
  const now = opts.now().getTime();
  const outbox = await pruneOutbox(opts.pool, new Date(now - opts.outboxRetentionMs));
  const inbox = await pruneInbox(opts.db, new Date(now - opts.inboxRetentionMs));
  let held = 0;
  // Held statuses are tenant data: expired tenant by tenant, each under its tenant (Row-Level Security).
  for (const tenantId of await allTenantIds(opts.db)) {
    for (;;) {
      const expired = await asTenant(opts.pool, tenantId, (tx) =>
        expireHeldDeliveryStatuses(tx, new Date(now - opts.heldStatusRetentionMs), EXPIRE_BATCH),
      );
      let n = 0;
      for (const [provider, count] of expired) {
        opts.metrics.heldStatusesExpired.inc({ provider }, count);
        n += count;
      }
      held += n;
      if (n < EXPIRE_BATCH) break;
    }
  }
  if (outbox + inbox + held > 0) opts.logger.info({ outbox, inbox, heldStatuses: held }, 'pruned');
}
