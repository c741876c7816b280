import { z } from 'zod';
import { isTopic, type Routed } from './topics.ts';

/**
 * The WebSocket protocol (documented in asyncapi.yaml, channel `realtime`): JSON text frames.
 * Client → gateway: `subscribe` (topics, optionally `lastEventId` to resume after, or
 * `replay: "kept"` for everything the log keeps), `unsubscribe`, `ping`. Gateway → client:
 * `welcome`, `subscribed`, `event`, `reload` (the gap is older than the log), `pong`, `error`.
 */

const Topic = z.string().max(250).refine(isTopic, 'unknown topic');
const Topics = z.array(Topic).min(1).max(200);

export const ClientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('subscribe'),
    topics: Topics,
    lastEventId: z.uuid().optional(),
    replay: z.literal('kept').optional(),
  }),
  // Seed 003's spelling of the same request.
  z.object({ type: z.literal('subscribe_state_updates'), subscriptions: Topics, lastEventId: z.uuid().optional() }),
  z.object({ type: z.literal('unsubscribe'), topics: Topics }),
  z.object({ type: z.literal('ping') }),
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Why the gateway closed a connection: a code and a reason clients can act on. */
export const CLOSE = {
  /** Too many unsent frames: the client did not read fast enough. Reconnect with lastEventId. */
  slow: { code: 4008, reason: 'slow consumer: send buffer full' },
  /** No pong to the previous ping. */
  heartbeat: { code: 4000, reason: 'heartbeat timeout' },
  /** Too many frames from the client. */
  flood: { code: 4029, reason: 'too many messages' },
  shutdown: { code: 1001, reason: 'server shutting down' },
  /** The replica lost its live feed for a moment: reconnect and resume with lastEventId. */
  resync: { code: 4009, reason: 'live feed interrupted: resume with lastEventId' },
  /**
   * The token the connection opened with expired (a browser token) or was revoked (a read-API
   * token): reconnect with a valid one and resume with lastEventId.
   */
  unauthorized: { code: 4001, reason: 'token expired or revoked: reconnect with a valid token' },
} as const;
export type DropReason = keyof typeof CLOSE;

export interface EventEnvelope {
  id: string;
  type: string;
  subject?: string | undefined;
  time: string;
  data: unknown;
}

/** The frame of one event, built once per event and sent as is to every client it reaches. */
export function eventFrame(seq: string, ce: EventEnvelope, routed: Routed): string {
  return JSON.stringify({
    type: 'event',
    event: routed.event,
    topics: routed.topics,
    id: ce.id,
    seq,
    version: routed.version,
    cloudEventType: ce.type,
    subject: ce.subject ?? null,
    time: ce.time,
    data: ce.data,
  });
}

export const frame = (body: Record<string, unknown>) => JSON.stringify(body);
