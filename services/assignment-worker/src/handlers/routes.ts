import { agentDeskRoutingKeys, domainEventType, inboundType } from '@switchboard/contracts';
import { type BatchHandler, type Delivery, type Handler, type Outcome, transient } from '@switchboard/platform';
import { createBatchHandler } from '@switchboard/worker';
import { CONSUMER, type Deps } from '../deps.ts';
import { lockChats } from '../store/chat-row.ts';
import { writeHeldChats } from '../store/chats.ts';
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

/** The events about one chat each (its conversation): these share a batch's transaction. */
const chatEventTypes = new Set(
  (['message.received', 'message.sent', 'conversation.status.changed'] as const).map((k) => domainEventType(k)),
);

/**
 * The queue's events → chat changes, through the worker kit: a delivery batch's chat events in
 * one unit of work with their inbox claims (a redelivered event changes nothing), their outbox,
 * their counts and idle checks once committed. Their chats are row-locked by id before any of
 * them applies (`lockRows`), so the lock order holds across the batch: its chats, then the
 * auto-assign tenant lock, then operators. Their changes that neither open nor close an
 * assignment are kept in memory and written in one statement per tenant (`writeRows`). A presence report locks the chats it finds assigned to
 * its operator while it runs, so each goes in a unit of work of its own, as before batching. If a
 * batch's transaction fails, the kit applies its events again one by one, so a poison event fails
 * alone.
 */
export function createBatchEventHandler(deps: Deps): BatchHandler {
  const apply = createBatchHandler({
    deps,
    pool: deps.pool,
    metrics: deps.metrics,
    logger: deps.logger,
    consumer: CONSUMER,
    table: routesByType,
    tenantOf: (scope) => scope.tenantId,
    // No Redis locks here: a chat's row lock is the guard.
    withLocks: (_keys, fn) => fn(),
    lockRows: (tx, scopes) => {
      const tenantId = scopes[0]?.tenantId;
      const ids = [...new Set(scopes.flatMap((s) => (s.chatId ? [s.chatId] : [])))];
      return tenantId ? lockChats(tx, tenantId, ids) : Promise.resolve();
    },
    // The chats' changes the routes kept in memory, one statement per tenant before the commit.
    writeRows: writeHeldChats,
  });
  return async (deliveries) => {
    const together: number[] = [];
    const alone: number[] = [];
    deliveries.forEach((d, i) => {
      (chatEventTypes.has(String(d.msg.properties?.type)) ? together : alone).push(i);
    });
    const outcomes: Outcome[] = new Array(deliveries.length);
    const run = async (indexes: number[]) => {
      if (indexes.length === 0) return;
      const settled = await apply(indexes.map((i) => deliveries[i] as Delivery));
      indexes.forEach((i, k) => {
        outcomes[i] = settled[k] ?? transient(deliveries[i] as Delivery, new Error('no outcome'));
      });
    };
    await Promise.all([run(together), ...alone.map((i) => run([i]))]);
    return outcomes;
  };
}

/** The same, one delivery at a time (tests hand events to it directly). */
export function createEventHandler(deps: Deps): Handler {
  const batch = createBatchEventHandler(deps);
  return async (msg, ctx) => {
    const [outcome] = await batch([{ msg, ctx }]);
    return outcome ?? transient({ msg, ctx }, new Error('no outcome'));
  };
}
