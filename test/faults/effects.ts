import type { Pipeline } from '@switchboard/test-pipeline';
import type { EventCollector, Received } from '@switchboard/testing';
import { expect } from 'vitest';

/** The keys of the webhooks some edge answered 2xx, by kind (see stream.ts). */
export interface Accepted {
  messages: string[];
  statuses: string[];
  tickets: string[];
}

const count = async (p: Pick<Pipeline, 'pool'>, sql: string, params: unknown[] = []) =>
  Number((await p.pool.query<{ n: string }>(sql, params)).rows[0]?.n ?? Number.NaN);

/** A status is applied only once its message is stored: statuses of unaccepted messages wait forever. */
const appliableStatuses = (a: Accepted) => {
  const messages = new Set(a.messages);
  return a.statuses.filter((s) => messages.has(s.slice(0, s.lastIndexOf('/'))));
};

/**
 * Waits until every accepted webhook's effect is stored, the outbox is published, every outbox
 * event reached the bus, and the assignment-worker has taken in every `message.received`.
 */
export async function waitForConvergence(
  p: Pick<Pipeline, 'pool'> & { events: EventCollector },
  accepted: Accepted,
  timeout = 60_000,
) {
  const statuses = appliableStatuses(accepted);
  const progress = async () => ({
    messages: await count(p, 'select count(*) as n from messages where provider_message_id = any($1)', [
      accepted.messages,
    ]),
    statuses: await count(
      p,
      `select count(*) as n from message_status_reports where provider_message_id || '/' || status = any($1)`,
      [statuses],
    ),
    tickets: await count(p, 'select count(*) as n from tickets where external_id = any($1)', [accepted.tickets]),
    unpublished: await count(p, 'select count(*) as n from outbox where published_at is null'),
    missingOnBus:
      (await count(p, 'select count(*) as n from outbox')) -
      (await count(p, 'select count(*) as n from outbox where event_id = any($1::uuid[])', [
        [...new Set(p.events.received.map((r) => r.event.id))],
      ])),
    assignmentBehind:
      (await count(p, 'select count(*) as n from messages')) -
      (await count(p, `select count(*) as n from inbox where consumer = 'assignment-worker'`)),
  });
  await expect.poll(progress, { timeout, interval: 250 }).toEqual({
    messages: accepted.messages.length,
    statuses: statuses.length,
    tickets: accepted.tickets.length,
    unpublished: 0,
    missingOnBus: 0,
    assignmentBehind: 0,
  });
  return p.events.received;
}

export interface BusReport {
  /** Deliveries on switchboard.events, and how many repeated an id already seen (at-least-once). */
  busEvents: number;
  busDuplicates: Record<string, number>;
  storedBeyondAccepted: { messages: number; tickets: number };
}

const distinctIds = (events: Received[]) => new Set(events.map((e) => e.event.id));

/** One distinct event id per value of `by` (an effect's key), for every key in `keys`. */
function expectOneEventPer(events: Received[], by: (data: Record<string, unknown>) => string, keys: string[]) {
  const ids = new Map<string, Set<string>>();
  for (const e of events) {
    const key = by(e.event.data as Record<string, unknown>);
    ids.set(key, (ids.get(key) ?? new Set()).add(e.event.id));
  }
  expect(keys.filter((k) => ids.get(k)?.size !== 1)).toEqual([]);
  expect([...ids.values()].filter((s) => s.size !== 1)).toEqual([]);
}

/** Rows once per accepted webhook; exactly one distinct event id per effect; the bus agrees with the outbox. */
export async function assertAppliedOnce(p: Pick<Pipeline, 'pool'>, accepted: Accepted, bus: Received[]) {
  const ofKey = (key: string) => bus.filter((r) => r.routingKey === key);
  // Rows: unique keys hold, every accepted webhook is stored (more may be: published, then killed before the 2xx).
  expect(await count(p, 'select count(*) - count(distinct provider_message_id) as n from messages')).toBe(0);
  expect(
    await count(p, `select count(*) - count(distinct (provider_message_id, status)) as n from message_status_reports`),
  ).toBe(0);
  // Effects and their events: one message.received per message, one status change per applied status, one creation per ticket.
  expectOneEventPer(ofKey('message.received'), (d) => String(d.providerMessageId), accepted.messages);
  expectOneEventPer(
    ofKey('message.status.changed'),
    (d) => `${d.providerMessageId}/${d.status}`,
    appliableStatuses(accepted),
  );
  const created = ofKey('ticket.status.changed').filter(
    (e) => (e.event.data as { previousStatus: unknown }).previousStatus === null,
  );
  expectOneEventPer(created, (d) => String(d.externalTicketId), accepted.tickets);
  // Every routing key: as many distinct ids on the bus as events committed to the outbox.
  const outbox = await p.pool.query<{ routing_key: string; n: string }>(
    'select routing_key, count(*) as n from outbox group by routing_key',
  );
  const onBus = Object.fromEntries(outbox.rows.map((r) => [r.routing_key, distinctIds(ofKey(r.routing_key)).size]));
  expect(onBus).toEqual(Object.fromEntries(outbox.rows.map((r) => [r.routing_key, Number(r.n)])));
  // The assignment-worker: one chat per conversation, each message taken in once.
  expect(await count(p, 'select count(*) as n from chats')).toBe(
    await count(p, 'select count(*) as n from conversations'),
  );
  const busDuplicates: Record<string, number> = {};
  for (const key of Object.keys(onBus)) busDuplicates[key] = ofKey(key).length - (onBus[key] ?? 0);
  return {
    busEvents: bus.length,
    busDuplicates,
    storedBeyondAccepted: {
      messages: (await count(p, 'select count(*) as n from messages')) - accepted.messages.length,
      tickets: (await count(p, 'select count(*) as n from tickets')) - accepted.tickets.length,
    },
  } satisfies BusReport;
}
