import type { Channel } from '@switchboard/worker';
import * as kit from '@switchboard/worker';
import type { Deps } from '../deps.ts';
import type { Metrics } from '../metrics.ts';

/**
 * The worker kit's routing table, typed for the sync-worker: handlers take its `Deps`, count into
 * its metrics, and every route's `prepare` resolves the channel the event came in on, and through
 * it the tenant whose data applying it may change (the batch runner tells the lookup cache).
 */
export interface ChannelScoped {
  channel: Channel;
}

type Sync = { deps: Deps; metrics: Metrics; scope: ChannelScoped };

export type Prepared<P> = kit.Prepared<P>;
export type Effects = kit.Effects<Metrics>;
export type Applied = kit.Applied<Metrics>;
export type RouteSpec<T, P extends ChannelScoped> = kit.RouteSpec<Sync, T, P>;
export type Route = kit.Route<Sync>;

export const noEffects = (): Effects => kit.noEffects<Metrics>();
export const route = <T, P extends ChannelScoped>(spec: RouteSpec<T, P>): Route => kit.route(spec);
