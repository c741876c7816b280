import { agentDeskRoutingKeys, domainEventType, inboundType } from '@switchboard/contracts';
import { type BatchHandler, type Handler, transient } from '@switchboard/platform';
import { createBatchHandler } from '@switchboard/worker';
import { CONSUMER, type Deps } from '../deps.ts';
import { conversationClosedRoute } from './conversation-closed.ts';
import { messageReceivedRoute } from './message-received.ts';
import { messageSentRoute } from './message-sent.ts';
import { operatorStatusRoute } from './operator-status.ts';
import type { Route } from './route.ts';

/**
 * The assignment-worker's routing table: CloudEvents type → route. A test checks these against
 * the bindings of `assignment-worker.events` (routing keys: the domain event's name on
 * `switchboard.events`, the inbound key on `switchboard.inbound`).
 */
export const routes: Record<string, { key: string; route: Route }> = {
  [domainEventType('message.received')]: { key: 'message.received', route: messageReceivedRoute },
  [domainEventType('message.sent')]: { key: 'message.sent', route: messageSentRoute },
  [domainEventType('conversation.status.changed')]: {
    key: 'conversation.status.changed',
    route: conversationClosedRoute,
  },
  [inboundType(agentDeskRoutingKeys.operatorStatus)]: {
    key: agentDeskRoutingKeys.operatorStatus,
    route: operatorStatusRoute,
  },
};

export const routesByType = new Map(Object.entries(routes).map(([type, r]) => [type, r.route]));

/**
 * The queue's events → chat changes, through the worker kit: each batch in one unit of work with
 * its inbox claim (a redelivered event changes nothing), its outbox, its counts and idle checks
 * once committed. The consumer hands it one event at a time (see service.ts).
 */
export function createBatchEventHandler(deps: Deps): BatchHandler {
  return createBatchHandler({
    deps,
    pool: deps.pool,
    metrics: deps.metrics,
    logger: deps.logger,
    consumer: CONSUMER,
    table: routesByType,
    tenantOf: (scope) => scope.tenantId,
    // No Redis locks here: a chat's row lock is the guard.
    withLocks: (_keys, fn) => fn(),
  });
}

/** The same, one delivery at a time (tests hand events to it directly). */
export function createEventHandler(deps: Deps): Handler {
  const batch = createBatchEventHandler(deps);
  return async (msg, ctx) => {
    const [outcome] = await batch([{ msg, ctx }]);
    return outcome ?? transient({ msg, ctx }, new Error('no outcome'));
  };
}
