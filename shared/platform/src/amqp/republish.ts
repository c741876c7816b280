import type { Message } from 'amqplib';
import type { OutgoingMessage } from './publisher.ts';

/** How many times the consumer has tried a message (1 for a fresh one). */
export const ATTEMPT_HEADER = 'x-switchboard-attempt';
/** Why a message was moved to a delay, dead-letter or parking queue, for the person who reads it. */
export const REASON_HEADER = 'x-switchboard-reason';

/** Sends one message and resolves once the broker confirmed it (e.g. `Publisher#publish`). */
export type ConfirmedSend = (msg: OutgoingMessage) => Promise<void>;

/**
 * Copies a delivered message, unchanged (body, id, type, content type, timestamp, headers), to
 * another queue, persistent and mandatory, resolving once the broker confirmed the copy: the
 * caller acks the original only then, so a crash in between duplicates and never loses.
 *
 * With `mark`, the copy carries its attempt count and the reason it was moved (a delay, dead-letter
 * or parking queue). Without one, those marks and the broker's `x-death` history are dropped, so a
 * message replayed to its consumer starts the retry ladder afresh.
 */
export function republish(
  send: ConfirmedSend,
  msg: Pick<Message, 'content' | 'properties'>,
  to: { exchange: string; routingKey: string },
  mark?: { attempt: number; reason: string },
): Promise<void> {
  const { properties } = msg;
  const { [ATTEMPT_HEADER]: _a, [REASON_HEADER]: _r, 'x-death': _d, ...unmarked } = properties.headers ?? {};
  const headers = mark
    ? { ...properties.headers, [ATTEMPT_HEADER]: mark.attempt, [REASON_HEADER]: mark.reason.slice(0, 1000) }
    : unmarked;
  return send({
    exchange: to.exchange,
    routingKey: to.routingKey,
    content: msg.content,
    mandatory: true,
    properties: {
      messageId: String(properties.messageId),
      type: properties.type,
      contentType: properties.contentType,
      timestamp: properties.timestamp,
      persistent: true,
      headers,
    },
  });
}
