import { decodeEvent } from '@switchboard/contracts';
import { dead, type Handler } from '@switchboard/platform';
import { z } from 'zod';
import type { Deps } from '../deps.ts';
import type { Route } from './route.ts';
import { routesByType } from './routes.ts';

/**
 * Delivery → envelope → route → payload → handler. What cannot be decoded or routed is dead on
 * arrival: retrying cannot make it parse.
 */
export function createDispatcher(deps: Deps, table: Map<string, Route> = routesByType): Handler {
  return async (msg, ctx) => {
    const decoded = decodeEvent(msg.content);
    if (!decoded.ok) return dead(`invalid_envelope: ${decoded.reason}`);
    const { event } = decoded;
    const r = table.get(event.type);
    if (!r) return dead(`unknown_type: no handler for ${event.type}`);
    const data = r.schema.safeParse(event.data);
    if (!data.success) return dead(`invalid_payload: ${z.prettifyError(data.error)}`);
    return r.handle(deps, { ...event, data: data.data }, ctx);
  };
}
