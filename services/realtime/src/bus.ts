import { CustomerErased, decodeEvent, domainEventType } from '@switchboard/contracts';
import { dead, done, type Handler, skipped } from '@switchboard/platform';
import type { EventLog } from './event-log.ts';
import type { Metrics } from './metrics.ts';
import { routeEvent } from './topics.ts';

/**
 * Takes `switchboard.events` off the gateway's queue into the replay log. The delivery is acked
 * only once Redis holds the entry (the consumer acks after the handler returns), so an event is
 * never acked unlogged; a redelivery finds its id in the log and appends nothing. Redis down: the
 * handler throws and the consumer retries it through the delay queues.
 */
export function createBusHandler(deps: { log: EventLog; metrics: Metrics; now?: () => number }): Handler {
  const now = deps.now ?? Date.now;
  return async (msg) => {
    const receivedAt = now();
    const decoded = decodeEvent(msg.content);
    if (!decoded.ok) return dead(`invalid_envelope: ${decoded.reason}`);
    const ce = decoded.event;
    if (ce.type === ERASED && ce.tenantid) return eraseFromLog(deps.log, ce.tenantid, ce.data);
    const routed = ce.tenantid ? routeEvent(ce.type, ce.data) : undefined;
    if (!ce.tenantid || !routed) {
      deps.metrics.appended.inc({ outcome: 'not_pushed' });
      return skipped('no client subscribes to it');
    }
    const r = await deps.log.append(ce.tenantid, ce.id, msg.content.toString('utf8'), receivedAt, routed.topics);
    deps.metrics.appended.inc({ outcome: r.appended ? 'appended' : 'duplicate' });
    return r.appended ? done : skipped('already in the replay log');
  };
}

const ERASED = domainEventType('customer.erased');

/**
 * `customer.erased`: the log's entries about the customer or its conversations go (the log holds
 * what they wrote); nothing is pushed. A redelivery finds nothing left to remove.
 */
async function eraseFromLog(log: EventLog, tenantId: string, data: unknown) {
  const parsed = CustomerErased.safeParse(data);
  if (!parsed.success) return dead(`invalid customer.erased: ${parsed.error.message}`);
  const ids = new Set([parsed.data.customerId, ...parsed.data.conversationIds]);
  const about = (json: string) => {
    const e = JSON.parse(json) as { subject?: string; data?: { conversationId?: string; customerId?: string } };
    return [e.subject, e.data?.conversationId, e.data?.customerId].some((id) => id !== undefined && ids.has(id));
  };
  const removed = await log.erase(tenantId, about);
  return removed > 0 ? done : skipped('nothing of the customer in the replay log');
}
