import { isUtf8 } from 'node:buffer';
import { type CloudEvent, createEvent, inboundType, ParkedPayload, parkedRoutingKey } from '@switchboard/contracts';

export interface Parked {
  provider: string;
  /** The edge route that parked it, e.g. `/switchboard/ingest/whatsapp`. */
  source: string;
  /** The HTTP request id (and the part's index), to find the request's logs. */
  subject: string;
  reason: string;
  /** A part as JSON text, or the request's raw bytes when the whole body could not be read. */
  body: string | Buffer;
  /** The request's Content-Type, kept with a raw body so it can be replayed as it came. */
  contentType?: string | undefined;
}

/**
 * The event an edge publishes to `parked.<provider>` for a correctly signed payload (or part) it
 * could not normalize (design rule 1: never lost, never retried forever). Raw bytes are kept
 * exactly: as text when they are UTF-8, as base64 otherwise, since decoding them as UTF-8 would
 * replace what is not and lose the bytes the signature was computed over.
 */
export function parkedEvent(p: Parked): { routingKey: string; event: CloudEvent<ParkedPayload> } {
  const raw = Buffer.isBuffer(p.body) ? p.body : undefined;
  const base64 = raw !== undefined && !isUtf8(raw);
  const data = ParkedPayload.parse({
    provider: p.provider,
    reason: p.reason,
    body: raw === undefined ? p.body : raw.toString(base64 ? 'base64' : 'utf8'),
    ...(base64 ? { bodyEncoding: 'base64' } : {}),
    ...(p.contentType ? { contentType: p.contentType.slice(0, 200) } : {}),
  });
  return {
    routingKey: parkedRoutingKey(p.provider),
    event: createEvent({ source: p.source, type: inboundType('parked'), subject: p.subject, data }),
  };
}
