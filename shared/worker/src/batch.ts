import { type CloudEvent, decodeEvent } from '@switchboard/contracts';
import { type Executor, mayHoldUnstorableText, pgSafe } from '@switchboard/db';
import { type BatchHandler, type Delivery, dead, type Outcome, skipped, transient } from '@switchboard/platform';
import { z } from 'zod';
import type { Route, WorkerShape } from './route.ts';
import { type Unit, type UnitDeps, unitOfWork } from './unit-of-work.ts';

interface Item<W extends WorkerShape> {
  index: number;
  route: Route<W>;
  event: CloudEvent;
  value: W['scope'];
}

/** What the batch runner needs besides the routing table: the worker's deps and how it locks and commits. */
export interface BatchRunner<W extends WorkerShape> extends UnitDeps<W['metrics']> {
  deps: W['deps'];
  logger: { warn: (obj: object, msg: string) => void };
  /** The inbox name the worker claims event ids under. */
  consumer: string;
  /** CloudEvents type → route; the routes apply in the order they first appear. */
  table: Map<string, Route<W>>;
  /** The tenant a prepared event's writes belong to: its group in the batch runs under it (Row-Level Security). */
  tenantOf: (scope: W['scope']) => string;
  /** Holds the batch's lock keys while `fn` runs (Redis locks; the Postgres guards hold regardless). */
  withLocks: <T>(keys: string[], fn: () => Promise<T>) => Promise<T>;
  /**
   * Takes the Postgres row locks a tenant's events will take, in one order, before any route
   * applies (after the inbox claim; each tenant's events under that tenant, tenants in id order).
   * Routes of one batch then never lock a row after another route's later locks, so two batches
   * that each change several rows cannot wait on each other in a cycle (the assignment-worker:
   * its chats by id, before the auto-assign tenant lock and any operator).
   */
  lockRows?: (tx: Executor, scopes: W['scope'][]) => Promise<void>;
  /**
   * Writes what a tenant's routes changed in memory of the rows `lockRows` took (a set-based
   * write: one statement for the tenant's rows), after that tenant's routes applied, under that
   * tenant, before the outbox append and the commit. A worker whose routes defer writes of the
   * rows it locked ahead must pass it: nothing else writes them.
   */
  writeRows?: (tx: Executor) => Promise<void>;
}

/**
 * Applies a batch of deliveries in one unit of work: inbox claim for all, every tenant's row locks
 * when the worker takes them ahead (`lockRows`), then per tenant (in the
 * order tenants first appear, each group under its own tenant for Row-Level Security) each
 * route's `apply` for that tenant's events and the write of the rows they changed in memory
 * (`writeRows`), one outbox append, counts and after-commit hooks once it committed. If the
 * transaction fails, each event is applied again alone, so one poison event costs its neighbours
 * a second try instead of their batch.
 */
export function createBatchHandler<W extends WorkerShape>(r: BatchRunner<W>): BatchHandler {
  const order = [...new Set(r.table.values())];
  return async (deliveries) => {
    const outcomes: Outcome[] = new Array(deliveries.length);
    const items: Item<W>[] = [];
    await Promise.all(
      deliveries.map(async (d, index) => {
        const parsed = await parse(r, d);
        if ('kind' in parsed) outcomes[index] = parsed;
        else items.push({ index, ...parsed });
      }),
    );
    items.sort((a, b) => a.index - b.index);
    if (items.length === 0) return outcomes;
    try {
      await applyItems(r, order, items, outcomes);
    } catch (err) {
      if (items.length === 1) throw err;
      r.logger.warn({ err, size: items.length }, 'batch failed, applying its events one by one');
      await Promise.all(
        items.map((item) =>
          applyItems(r, order, [item], outcomes).catch((e: unknown) => {
            outcomes[item.index] = transient(deliveries[item.index] as Delivery, e);
          }),
        ),
      );
    }
    return outcomes;
  };
}

/** Delivery → envelope → route → payload → prepared; anything that fails here is never applied. */
async function parse<W extends WorkerShape>(r: BatchRunner<W>, d: Delivery): Promise<Outcome | Omit<Item<W>, 'index'>> {
  const decoded = decodeEvent(d.msg.content);
  if (!decoded.ok) return dead(`invalid_envelope: ${decoded.reason}`);
  // Text Postgres cannot hold (NUL, lone surrogates) is made storable once, before any insert.
  const envelope = mayHoldUnstorableText(d.msg.content.toString('utf8')) ? pgSafe(decoded.event) : decoded.event;
  const handler = r.table.get(envelope.type);
  if (!handler) return dead(`unknown_type: no handler for ${envelope.type}`);
  const data = handler.schema.safeParse(envelope.data);
  if (!data.success) return dead(`invalid_payload: ${z.prettifyError(data.error)}`);
  const event = { ...envelope, data: data.data };
  const prepared = await handler.prepare(r.deps, event);
  // Not ok: dead, parked (an account no active channel claims) or skipped, settled by the consumer
  // alone, outside the batch's transaction.
  return prepared.ok ? { route: handler, event, value: prepared.value } : prepared.outcome;
}

async function applyItems<W extends WorkerShape>(
  r: BatchRunner<W>,
  order: Route<W>[],
  items: Item<W>[],
  outcomes: Outcome[],
): Promise<void> {
  const keys = items.flatMap((i) => i.route.lockKeys(i.value));
  // A batch of one tenant (the usual case) is under it from BEGIN on, in BEGIN's round trip.
  const tenants = new Set(items.map((i) => r.tenantOf(i.value)));
  const only = tenants.size === 1 ? [...tenants][0] : undefined;
  const local = await r.withLocks(keys, () =>
    unitOfWork(
      r,
      async (unit) => {
        const claimed = unit.claimed;
        const settled = new Map<number, Outcome>();
        const fresh = items.filter((i) => {
          if (claimed.delete(i.event.id)) return true;
          settled.set(i.index, skipped('duplicate event'));
          return false;
        });
        const groups = byTenant(r, fresh);
        if (r.lockRows) await lockRowsFirst(unit, r.lockRows, groups, only);
        for (const [tenantId, group] of groups) {
          if (tenantId !== only) await unit.asTenant(tenantId);
          for (const route of order) {
            const mine = group.filter((i) => i.route === route);
            if (mine.length > 0) await applyRoute(unit, r.deps, route, mine, settled);
          }
          if (r.writeRows) await r.writeRows(unit.tx);
        }
        return settled;
      },
      { tenantId: only, claim: { consumer: r.consumer, eventIds: items.map((i) => i.event.id) } },
    ),
  );
  // Committed: only now do the outcomes leave, so a rolled-back batch acks nothing.
  for (const [index, outcome] of local) outcomes[index] = outcome;
}

/** Every tenant's row locks, tenants in id order, before any route runs (see `BatchRunner.lockRows`). */
async function lockRowsFirst<W extends WorkerShape>(
  unit: Unit<W['metrics']>,
  lockRows: NonNullable<BatchRunner<W>['lockRows']>,
  groups: Map<string, Item<W>[]>,
  only: string | undefined,
): Promise<void> {
  for (const tenantId of [...groups.keys()].sort()) {
    if (tenantId !== only) await unit.asTenant(tenantId);
    await lockRows(
      unit.tx,
      (groups.get(tenantId) ?? []).map((i) => i.value),
    );
  }
}

/** Items grouped by tenant, groups in the order their tenant first appears, items in delivery order. */
function byTenant<W extends WorkerShape>(r: BatchRunner<W>, items: Item<W>[]): Map<string, Item<W>[]> {
  const groups = new Map<string, Item<W>[]>();
  for (const item of items) {
    const tenantId = r.tenantOf(item.value);
    const group = groups.get(tenantId);
    if (group) group.push(item);
    else groups.set(tenantId, [item]);
  }
  return groups;
}

async function applyRoute<W extends WorkerShape>(
  unit: Unit<W['metrics']>,
  deps: W['deps'],
  route: Route<W>,
  mine: Item<W>[],
  settled: Map<number, Outcome>,
): Promise<void> {
  const results = await route.apply(unit.tx, deps, mine);
  mine.forEach((item, k) => {
    const a = results[k];
    if (!a) throw new Error('route returned fewer results than items');
    settled.set(item.index, a.outcome);
    unit.record(a);
  });
}
