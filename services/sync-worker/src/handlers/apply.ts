import { type CloudEvent, decodeEvent } from '@switchboard/contracts';
import { appendOutbox, claimInboxMany, type OutboxEntry, transaction } from '@switchboard/db';
import {
  type BatchHandler,
  type Delivery,
  dead,
  type Outcome,
  recordCounts,
  skipped,
  transient,
} from '@switchboard/platform';
import { z } from 'zod';
import { CONSUMER, type Deps } from '../deps.ts';
import { touchedLookupKeys } from '../lookup-keys.ts';
import type { Count } from '../metrics.ts';
import type { ChannelScoped, Route } from './route.ts';
import { routesByType } from './routes.ts';

interface Item {
  index: number;
  route: Route;
  event: CloudEvent;
  value: ChannelScoped;
}

/**
 * Applies a batch of deliveries in one transaction: inbox claim for all, each route's `apply`
 * for its events, one outbox append. If the transaction fails, each event is retried alone, so
 * one poison event costs its neighbours a second try instead of their batch. Routes apply in the
 * table's order.
 */
export function createBatchHandler(deps: Deps, table: Map<string, Route> = routesByType): BatchHandler {
  const order = [...new Set(table.values())];
  return async (deliveries) => {
    const outcomes: Outcome[] = new Array(deliveries.length);
    const items: Item[] = [];
    await Promise.all(
      deliveries.map(async (d, index) => {
        const parsed = await parse(deps, table, d);
        if ('kind' in parsed) outcomes[index] = parsed;
        else items.push({ index, ...parsed });
      }),
    );
    items.sort((a, b) => a.index - b.index);
    if (items.length === 0) return outcomes;
    try {
      await applyItems(deps, order, items, outcomes);
    } catch (err) {
      if (items.length === 1) throw err;
      deps.logger.warn({ err, size: items.length }, 'batch failed, applying its events one by one');
      await Promise.all(
        items.map((item) =>
          applyItems(deps, order, [item], outcomes).catch((e: unknown) => {
            outcomes[item.index] = transient(deliveries[item.index] as Delivery, e);
          }),
        ),
      );
    }
    return outcomes;
  };
}

/** Delivery → envelope → route → payload → prepared; anything that fails here is never applied. */
async function parse(deps: Deps, table: Map<string, Route>, d: Delivery): Promise<Outcome | Omit<Item, 'index'>> {
  const decoded = decodeEvent(d.msg.content);
  if (!decoded.ok) return dead(`invalid_envelope: ${decoded.reason}`);
  const r = table.get(decoded.event.type);
  if (!r) return dead(`unknown_type: no handler for ${decoded.event.type}`);
  const data = r.schema.safeParse(decoded.event.data);
  if (!data.success) return dead(`invalid_payload: ${z.prettifyError(data.error)}`);
  const event = { ...decoded.event, data: data.data };
  const prepared = await r.prepare(deps, event);
  // Not ok: dead, or parked (an account no active channel claims), settled by the consumer alone,
  // outside the batch's transaction.
  return prepared.ok ? { route: r, event, value: prepared.value } : prepared.outcome;
}

async function applyItems(deps: Deps, order: Route[], items: Item[], outcomes: Outcome[]): Promise<void> {
  const keys = items.flatMap((i) => i.route.lockKeys(i.value));
  const results = await deps.locks.withLocks(keys, { ...deps.lock, scope: 'batch' }, () =>
    transaction(deps.pool, async (tx) => {
      const claimed = await claimInboxMany(
        tx,
        CONSUMER,
        items.map((i) => i.event.id),
      );
      const local = new Map<number, Outcome>();
      const outbox: OutboxEntry[] = [];
      const counts: Count[] = [];
      const fresh = items.filter((i) => {
        if (claimed.delete(i.event.id)) return true;
        local.set(i.index, skipped('duplicate event'));
        return false;
      });
      for (const r of order) {
        const mine = fresh.filter((i) => i.route === r);
        if (mine.length === 0) continue;
        const applied = await r.apply(tx, deps, mine);
        mine.forEach((item, k) => {
          const a = applied[k];
          if (!a) throw new Error('route returned fewer results than items');
          local.set(item.index, a.outcome);
          outbox.push(...a.outbox);
          counts.push(...a.counts);
        });
      }
      await appendOutbox(tx, outbox);
      // What the batch's writes touched, as the triggers recorded it (last, so nothing is missed).
      return { local, lookupKeys: await touchedLookupKeys(tx), counts };
    }),
  );
  // After the commit: what it did is counted once (a rolled-back batch, applied again one event at
  // a time, counts nothing of its own), and no later lookup of what it changed is answered from
  // before the change.
  recordCounts(deps.metrics, results.counts);
  await deps.lookups?.invalidate(results.lookupKeys);
  for (const [index, outcome] of results.local) outcomes[index] = outcome;
}
