import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * CloudEvents 1.0, structured JSON mode. Every event on `switchboard.inbound` and
 * `switchboard.events` is one of these; `data` stays `unknown` here and is parsed by the
 * schema that the routing table names for the event's type.
 */
export const CloudEvent = z.object({
  specversion: z.literal('1.0'),
  id: z.uuid(),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1).optional(),
  datacontenttype: z.literal('application/json').optional(),
  tenantid: z.string().min(1).optional(),
  data: z.unknown(),
});
export type CloudEvent<T = unknown> = Omit<z.infer<typeof CloudEvent>, 'data'> & { data: T };

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json';

export interface NewEvent<T> {
  source: string;
  type: string;
  data: T;
  subject?: string;
  tenantid?: string;
  /** Deterministic ids make a re-sent webhook produce the same event (see `eventId`). */
  id?: string;
  time?: Date;
}

export function createEvent<T>(e: NewEvent<T>): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: e.id ?? randomUUID(),
    source: e.source,
    type: e.type,
    time: (e.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    ...(e.subject === undefined ? {} : { subject: e.subject }),
    ...(e.tenantid === undefined ? {} : { tenantid: e.tenantid }),
    data: e.data,
  };
}

/** The AMQP properties of a CloudEvent: message id and type mirror the envelope (binding spec). */
export function amqpProperties(event: CloudEvent) {
  const headers: Record<string, string> = {
    cloudEvents_specversion: event.specversion,
    cloudEvents_id: event.id,
    cloudEvents_source: event.source,
    cloudEvents_type: event.type,
    cloudEvents_time: event.time,
  };
  if (event.subject) headers.cloudEvents_subject = event.subject;
  if (event.tenantid) headers.cloudEvents_tenantid = event.tenantid;
  return {
    messageId: event.id,
    type: event.type,
    contentType: CLOUDEVENTS_CONTENT_TYPE,
    timestamp: Math.floor(Date.parse(event.time) / 1000),
    persistent: true,
    headers,
  };
}

export function encodeEvent(event: CloudEvent): Buffer {
  return Buffer.from(JSON.stringify(event));
}

export type DecodeResult = { ok: true; event: CloudEvent } | { ok: false; reason: string };

export function decodeEvent(body: Buffer): DecodeResult {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = CloudEvent.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not a CloudEvent: ${z.prettifyError(parsed.error)}` };
  return { ok: true, event: parsed.data };
}
