import {
  type CloudEvent,
  createEvent,
  errorCodeParts,
  eventId,
  type GenesysAgentMessage,
  type GenesysReceipt,
  genesysRoutingKeys,
  inboundType,
} from '@switchboard/contracts';
import type { DeliveryStatus } from '@switchboard/domain';
import {
  type JsonBody,
  parkedEvent,
  RequestError,
  rawJsonBody,
  readJson,
  signatureDigest,
  verifyHmacSha256,
} from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { secretsForAccount } from '../signed.ts';
import type { AppDeps } from './deps.ts';

/**
 * Genesys Cloud Open Messaging outbound webhook (what Genesys posts to the integration's
 * `outboundNotificationWebhookUrl`): one normalized message per request, `type` Text or
 * Structured (an agent's message, possibly with attachments), Receipt (delivery of a message),
 * or Event (typing). Signed `X-Hub-Signature-256: sha256=<base64 HMAC-SHA256 of the raw body>`
 * with the integration's outbound webhook secret. Fields we do not know are kept in `raw`.
 */
const participant = z.looseObject({
  id: z.string().min(1),
  idType: z.string().optional(),
  nickname: z.string().optional(),
  firstName: z.string().optional(),
  lastName: z.string().optional(),
});

const GenesysWebhook = z.looseObject({
  id: z.string().min(1).max(500),
  channel: z.looseObject({
    id: z.string().min(1).max(200),
    platform: z.string().optional(),
    type: z.string().optional(),
    to: participant.optional(),
    from: participant.optional(),
    time: z.iso.datetime({ offset: true }),
    messageId: z.string().optional(),
  }),
  type: z.string(),
  text: z.string().max(65_536).optional(),
  content: z
    .array(
      z.looseObject({
        contentType: z.string(),
        attachment: z
          .looseObject({
            mediaType: z.string().optional(),
            url: z.string().optional(),
            mime: z.string().optional(),
            filename: z.string().optional(),
            text: z.string().optional(),
          })
          .optional(),
      }),
    )
    .max(100)
    .optional(),
  direction: z.string().optional(),
  conversationId: z.string().min(1).max(200).optional(),
  status: z.string().optional(),
  reasons: z.array(z.looseObject({ code: z.string().optional(), message: z.string().optional() })).optional(),
  isFinalReceipt: z.boolean().optional(),
  events: z.array(z.looseObject({ eventType: z.string() })).optional(),
});
type GenesysWebhook = z.infer<typeof GenesysWebhook>;

/** Genesys receipt statuses → our delivery statuses. `Published` means handed on: sent. */
const receiptStatus: Record<string, DeliveryStatus> = {
  Published: 'sent',
  Sent: 'sent',
  Delivered: 'delivered',
  Read: 'read',
  Failed: 'failed',
};

const SOURCE = '/switchboard/webhooks/genesys';

export type Normalized =
  | { kind: 'event'; routingKey: string; event: CloudEvent }
  | { kind: 'typing' }
  | { kind: 'parked'; reason: string };

/** One Genesys webhook → one canonical inbound event, typing (nothing to store), or parked. */
export function normalizeGenesys(w: GenesysWebhook): Normalized {
  const account = w.channel.id;
  const at = w.channel.time;
  const event = (routingKey: string, id: string, data: GenesysAgentMessage | GenesysReceipt) => ({
    kind: 'event' as const,
    routingKey,
    event: createEvent({
      id,
      source: SOURCE,
      type: inboundType(routingKey),
      time: new Date(at),
      subject: w.id,
      data,
    }) as CloudEvent,
  });
  if (w.type === 'Receipt') {
    const status = w.status ? receiptStatus[w.status] : undefined;
    if (!status) return { kind: 'parked', reason: `unknown receipt status ${JSON.stringify(w.status)}` };
    const errors = (w.reasons ?? []).map((r) => ({ code: r.code, message: r.message }));
    return event(
      genesysRoutingKeys.receipt,
      eventId('genesys', account, 'receipt', w.id, w.status ?? '', ...errorCodeParts(errors)),
      {
        provider: 'genesys',
        accountId: account,
        messageId: w.id,
        status,
        genesysStatus: w.status ?? '',
        ...(w.isFinalReceipt === undefined ? {} : { isFinal: w.isFinalReceipt }),
        ...(errors.length ? { errors } : {}),
        at,
        raw: w,
      },
    );
  }
  if (w.type === 'Event') {
    if (w.events?.length && w.events.every((e) => e.eventType === 'Typing')) return { kind: 'typing' };
    return { kind: 'parked', reason: 'event other than Typing' };
  }
  if (w.type !== 'Text' && w.type !== 'Structured') return { kind: 'parked', reason: `unknown type ${w.type}` };
  if (w.direction !== undefined && w.direction !== 'Outbound')
    return { kind: 'parked', reason: `message direction ${w.direction}` };
  const to = w.channel.to?.id;
  const from = w.channel.from;
  if (!to || !from) return { kind: 'parked', reason: 'message without channel.to or channel.from' };
  const attachments = (w.content ?? [])
    .filter((c) => c.contentType === 'Attachment' && c.attachment)
    .map((c) => {
      const a = c.attachment ?? {};
      return {
        ...(a.mediaType ? { mediaType: a.mediaType } : {}),
        ...(a.url ? { url: a.url } : {}),
        ...(a.mime ? { mime: a.mime } : {}),
        ...(a.filename ? { filename: a.filename } : {}),
        ...(a.text ? { text: a.text } : {}),
      };
    });
  if (w.text === undefined && attachments.length === 0)
    return { kind: 'parked', reason: 'message without text or attachment' };
  const name = from.nickname ?? ([from.firstName, from.lastName].filter(Boolean).join(' ') || undefined);
  return event(genesysRoutingKeys.agentMessage, eventId('genesys', account, 'message', w.id), {
    provider: 'genesys',
    accountId: account,
    messageId: w.id,
    ...(w.conversationId ? { genesysConversationId: w.conversationId } : {}),
    to,
    agentId: from.id,
    ...(name ? { agentName: name } : {}),
    type: attachments.length > 0 ? 'attachment' : 'text',
    ...(w.text === undefined ? {} : { text: w.text }),
    ...(attachments.length ? { attachments } : {}),
    at,
    raw: w,
  });
}

/** A verified body → its event, typing, or parked with the reason (not JSON, or not a Genesys webhook). */
function understand(body: JsonBody): Normalized {
  if (!body.ok) return { kind: 'parked', reason: `malformed_json: ${body.error}` };
  const parsed = GenesysWebhook.safeParse(body.value);
  if (!parsed.success)
    return { kind: 'parked', reason: `invalid payload: ${z.prettifyError(parsed.error).slice(0, 500)}` };
  return normalizeGenesys(parsed.data);
}

/** `channel.id` of a Genesys body (the integration), read before the signature is checked. */
const integrationOf = (body: unknown): unknown => (body as { channel?: { id?: unknown } } | null)?.channel?.id;

export function registerGenesys(app: FastifyInstance, deps: AppDeps): void {
  const { config, metrics } = deps;
  app.post('/webhooks/genesys', { bodyLimit: config.genesys.bodyLimit }, async (req, reply) => {
    const raw = rawJsonBody(req);
    const signature = req.headers['x-hub-signature-256'];
    const header = typeof signature === 'string' ? signature : undefined;
    const body = readJson(raw);
    // The integration the (not yet verified) body names picks the secrets tried: its own from the
    // channel registry, or the env default; naming another integration cannot widen them. A body
    // that is not JSON names none, so only the env default can verify it. A malformed header
    // cannot verify with any secret, so it costs no lookup.
    const secrets = signatureDigest(header, 'base64')
      ? await secretsForAccount(
          'genesys',
          body.ok ? integrationOf(body.value) : undefined,
          config.genesys.secret,
          deps.signed,
        )
      : [];
    if (!verifyHmacSha256(raw, header, secrets, 'base64')) {
      metrics.signatureFailures.inc({ provider: 'genesys', reason: 'bad_signature' });
      throw new RequestError(401, 'invalid_signature', 'X-Hub-Signature-256 does not match the body');
    }
    const out = understand(body);
    if (out.kind === 'typing') {
      metrics.normalized.inc({ provider: 'genesys', kind: 'typing' });
      return reply.code(200).send({ status: 'ignored', reason: 'typing' });
    }
    if (out.kind === 'parked') {
      // Correctly signed but not understood: kept for people, as it came (raw bytes and their
      // content type), answered 200 so Genesys does not retry it forever.
      const parked = { provider: 'genesys', source: SOURCE, subject: req.id, reason: out.reason, body: raw };
      await deps.publish([parkedEvent({ ...parked, contentType: req.headers['content-type'] })]);
      metrics.parked.inc({ provider: 'genesys' });
      req.log.warn({ reason: out.reason }, 'parked a Genesys webhook');
      return reply.code(200).send({ status: 'parked', reason: out.reason });
    }
    await deps.signed.rateLimit?.('genesys', [(out.event.data as { accountId: string }).accountId]);
    await deps.publish([{ routingKey: out.routingKey, event: out.event }]);
    metrics.normalized.inc({ provider: 'genesys', kind: out.routingKey });
    return reply.code(200).send({ status: 'accepted', id: out.event.id });
  });
}
