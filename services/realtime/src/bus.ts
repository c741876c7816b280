import { decodeEvent } from '@switchboard/contracts';
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
