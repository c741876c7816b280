import type { CloudEvent } from '@switchboard/contracts';
import type { Executor } from '@switchboard/db';
import type { ChatEvent } from '@switchboard/domain';
import { dead, done } from '@switchboard/platform';
import * as kit from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import type { Metrics } from '../metrics.ts';
import { pushFreed } from './auto-assign.ts';
import { changeChat } from './change-chat.ts';
import { type ChatChange, effectsOf } from './effects.ts';

/**
 * What every assignment route's `prepare` resolves: the tenant whose chats and operators it
 * changes, and for an event about one chat, that chat (the batch locks its chats, by id, before
 * any route applies; see routes.ts).
 */
export interface TenantScoped {
  tenantId: string;
  chatId?: string;
}

type Assignment = { deps: Deps; metrics: Metrics; scope: TenantScoped };

export type Prepared<P> = kit.Prepared<P>;
export type Applied = kit.Applied<Metrics>;
export type RouteSpec<T, P extends TenantScoped> = kit.RouteSpec<Assignment, T, P>;
export type Route = kit.Route<Assignment>;

export const route = <T, P extends TenantScoped>(spec: RouteSpec<T, P>): Route => kit.route(spec);

/** A domain event's tenant, from its envelope: every event on `switchboard.events` carries one. */
export const tenantOf = (event: CloudEvent): Prepared<TenantScoped> =>
  event.tenantid
    ? { ok: true, value: { tenantId: event.tenantid } }
    : { ok: false, outcome: dead('invalid_payload: no tenantid') };

/** A chat event's tenant and chat (the conversation it is about). */
export const chatOf = (event: CloudEvent<{ conversationId: string }>): Prepared<TenantScoped> => {
  const scoped = tenantOf(event);
  return scoped.ok ? { ok: true, value: { ...scoped.value, chatId: event.data.conversationId } } : scoped;
};

/** A route's chat changes as the kit's result: done, with their events, counts and idle checks. */
export const appliedOf = (deps: Deps, changes: ChatChange[]): Applied => ({
  outcome: done,
  ...effectsOf(deps, changes),
});

/**
 * One chat event, then on auto-assign tenants what it freed is handed out in the same transaction.
 * A close of a conversation the queue never saw is refused by the state machine: nothing happens.
 */
export async function changeChatAndPush(
  tx: Executor,
  deps: Deps,
  target: { id: string; tenantId: string },
  event: ChatEvent,
): Promise<Applied> {
  const a = await changeChat(tx, deps, target, event);
  if (!a.ok) return appliedOf(deps, []);
  return appliedOf(deps, [a, ...(await pushFreed(tx, deps, target.tenantId, [a]))]);
}

/** Applies a route's items one after the other in the batch's transaction. */
export const eachItem =
  <T, P>(fn: (tx: Executor, deps: Deps, item: { event: CloudEvent<T>; value: P }) => Promise<Applied>) =>
  async (tx: Executor, deps: Deps, items: Array<{ event: CloudEvent<T>; value: P }>): Promise<Applied[]> => {
    const out: Applied[] = [];
    for (const item of items) out.push(await fn(tx, deps, item));
    return out;
  };
