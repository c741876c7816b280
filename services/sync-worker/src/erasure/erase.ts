import { eventId } from '@switchboard/contracts';
import { appendOutbox, asTenantClient, domainOutboxEntry, transaction } from '@switchboard/db';
import type { Logger } from '@switchboard/platform';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { SOURCE } from '../deps.ts';
import type { Metrics } from '../metrics.ts';
import {
  customerFootprint,
  eraseCustomerRow,
  erasePlaces,
  lockCustomer,
  lockCustomerOutbox,
  markCachePurged,
  readErasure,
  recordErasure,
  rewriteOutboxEnvelope,
} from '../store/erasure.ts';
import { purgeCustomerLookups } from './lookup-purge.ts';
import { redactEnvelope } from './redact.ts';

export interface ErasureDeps {
  pool: pg.Pool;
  /** The read API's cache; absent, only the database is erased and the cache purge stays owed. */
  redis?: Redis | undefined;
  lookupTtlSeconds: number;
  /** The events exchange `customer.erased` goes to. */
  eventsExchange: string;
  logger: Logger;
  metrics?: Pick<Metrics, 'erasures' | 'erasureFailures'> | undefined;
  now: () => Date;
}

export type ErasureResult =
  | { kind: 'erased'; eventId: string; erasedAt: Date; changed: Record<string, number> }
  | { kind: 'already_erased'; eventId: string; erasedAt: Date }
  | { kind: 'not_found' }
  | { kind: 'cache_pending'; eventId: string; erasedAt: Date; err: unknown };

/**
 * Erases the database side in one transaction with the tenant's customer row locked: the
 * customer row, every place of ERASURE_PLACES, the outbox events about the customer (rewritten
 * without its data; unpublished ones are then published redacted), the erasure record and the
 * `customer.erased` event (deterministic id: written once). The customer's conversations are
 * locked first, so a retention batch holding them finishes (its archive is written) before, and
 * one that starts after reads erased rows: no archive written after the erasure holds its data.
 * Returns null when the customer is not the tenant's, or the record when it was erased before.
 */
export async function eraseCustomerData(client: pg.PoolClient, tenantId: string, customerId: string) {
  const fp = await customerFootprint(client, tenantId, customerId);
  await eraseCustomerRow(client, tenantId, customerId);
  const changed = await erasePlaces(client, tenantId, customerId, fp.identifiers);
  const personal = [...fp.identifiers, ...fp.texts];
  let outbox = 0;
  for (const row of await lockCustomerOutbox(client, tenantId, fp.aggregateIds, fp.identifiers)) {
    const redacted = redactEnvelope(row.envelope, personal);
    if (redacted.changed) {
      await rewriteOutboxEnvelope(client, row.id, redacted.value);
      outbox++;
    }
  }
  changed.outbox = outbox;
  return { changed, footprint: fp };
}

async function eraseInDatabase(deps: ErasureDeps, tenantId: string, customerId: string): Promise<ErasureResult> {
  return transaction(
    deps.pool,
    async (_tx, client) => {
      if (!(await lockCustomer(client, tenantId, customerId))) return { kind: 'not_found' };
      const before = await readErasure(client, tenantId, customerId);
      if (before) return { kind: 'already_erased', eventId: before.eventId, erasedAt: before.erasedAt };
      const at = deps.now();
      const { changed, footprint } = await eraseCustomerData(client, tenantId, customerId);
      const entry = domainOutboxEntry({
        exchange: deps.eventsExchange,
        source: SOURCE,
        key: 'customer.erased',
        tenantId,
        subject: customerId,
        time: at,
        data: { customerId, conversationIds: footprint.conversationIds, erasedAt: at.toISOString() },
      });
      // One id per customer: the outbox's unique event id makes a second `customer.erased` impossible.
      const event = { ...entry.event, id: eventId('customer.erased', tenantId, customerId) };
      await recordErasure(client, tenantId, customerId, event.id, at);
      await appendOutbox(client, [{ ...entry, event }]);
      return { kind: 'erased', eventId: event.id, erasedAt: at, changed };
    },
    { tenantId },
  );
}

async function purgeOwed(deps: ErasureDeps, tenantId: string, customerId: string): Promise<void> {
  if (!deps.redis) throw new Error('no Redis configured: the lookup cache purge is owed');
  const conv = await asTenantClient(deps.pool, tenantId, (client) =>
    client.query<{ id: string; gc: string | null }>(
      'select id, genesys_conversation_id as gc from conversations where tenant_id = $1 and customer_id = $2',
      [tenantId, customerId],
    ),
  );
  await purgeCustomerLookups(
    deps.redis,
    tenantId,
    {
      customerId,
      conversationIds: conv.rows.map((r) => r.id),
      genesysConversationIds: conv.rows.flatMap((r) => (r.gc ? [r.gc] : [])),
    },
    deps.lookupTtlSeconds,
  );
  await asTenantClient(deps.pool, tenantId, (client) => markCachePurged(client, tenantId, customerId, deps.now()));
}

/**
 * GDPR erasure of one customer of one tenant: the database in one transaction (eraseCustomerData),
 * then the read API's cache. Idempotent and resumable: a second request finds the record and
 * changes nothing in the database; if the cache purge did not finish (Redis down, a crash), the
 * record says it is owed and the next request does it. Another tenant's customer: not_found.
 */
export async function eraseCustomer(deps: ErasureDeps, tenantId: string, customerId: string): Promise<ErasureResult> {
  let result: ErasureResult;
  try {
    result = await eraseInDatabase(deps, tenantId, customerId);
  } catch (err) {
    deps.metrics?.erasureFailures.inc({ step: 'database' });
    throw err;
  }
  deps.metrics?.erasures.inc({ result: result.kind });
  if (result.kind === 'not_found') return result;
  if (
    result.kind === 'already_erased' &&
    (await asTenantClient(deps.pool, tenantId, (client) => readErasure(client, tenantId, customerId)))?.cachePurgedAt
  )
    return result;
  try {
    await purgeOwed(deps, tenantId, customerId);
  } catch (err) {
    deps.metrics?.erasureFailures.inc({ step: 'cache' });
    deps.logger.warn({ err, tenantId }, 'customer erased in the database; the cache purge is owed');
    return { kind: 'cache_pending', eventId: result.eventId, erasedAt: result.erasedAt, err };
  }
  if (result.kind === 'erased') deps.logger.info({ tenantId, changed: result.changed }, 'customer erased');
  return result;
}
