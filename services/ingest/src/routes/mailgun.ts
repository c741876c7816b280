import { type CloudEvent, createEvent, eventId, inboundType, mailgunRoutingKeys } from '@switchboard/contracts';
import {
  type PublishInbound,
  parkedEvent,
  RequestError,
  readJson,
  type SecretsFor,
  verifyMailgunSignature,
} from '@switchboard/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseForm } from '../normalize/form.ts';
import { mailgunInboundAccount, normalizeMailgunFields, normalizeMailgunMime } from '../normalize/mailgun.ts';
import { mailgunEventAccount, normalizeMailgunEvent } from '../normalize/mailgun-event.ts';
import type { AppDeps, MailgunDeps } from './deps.ts';

const SOURCE = '/switchboard/ingest/mailgun';
type MailgunEventBody = { signature?: Record<string, unknown>; 'event-data'?: unknown } | null;
const envKeyOnly: SecretsFor = async (_p, _a, envDefault) => [envDefault];
const reasons = {
  missing_signature: 'timestamp, token and signature are required',
  bad_signature: 'signature does not match timestamp and token',
  stale_timestamp: 'timestamp is outside the signature window',
} as const;

/**
 * Mailgun's status semantics: 406 tells Mailgun never to retry; any other failure is retried.
 * So a stale timestamp or a token already accepted (a replay, or Mailgun retrying a request
 * whose answer it lost after we published) gets 406, a bad signature 401 (design rule 7), and a
 * broker outage 503. A domain over its rate limit gets 429, never 406: the email is fine and must
 * come again later. Mailgun retries a 429 on its own schedule (minutes to hours apart, for 8
 * hours; its docs except delivery notifications, so a refused `delivered` event is lost, as on a
 * 503) and does not document reading `Retry-After`; we send it anyway, as every edge does.
 *
 * The signing key is the Mailgun channel's (its account is the domain: the recipient's for a
 * forward, our sending domain for an event), current or still in its rotation grace period, or
 * the env key for a domain without one. Only the named domain's keys are tried, and the event
 * published names that same domain, so one tenant's key cannot sign for another's domain.
 */
export function registerMailgun(app: FastifyInstance, deps: AppDeps, mg: MailgunDeps): void {
  const { config, metrics } = deps;
  const secretsFor = deps.secretsFor ?? envKeyOnly;

  /**
   * Verifies the signature, then takes one request from the budget of the domain that picked the
   * key (429 over it). After the signature, so a forged request spends nothing; before the token
   * is claimed (`publishOnce`), so a 429 leaves the token free and Mailgun's retry of this very
   * request is accepted. Claiming first and releasing on a 429 would save a replay its unit of
   * budget, but a release that failed would turn the retry into a 406, and Mailgun would drop
   * the email. A request naming no domain (or one longer than a domain can be) verifies with the
   * env key alone and, like a WhatsApp body naming no number, has no channel to count against.
   */
  const admit = async (
    account: string | undefined,
    sig: { timestamp?: string | undefined; token?: string | undefined; signature?: string | undefined },
  ) => {
    // An unsigned request is refused without asking the registry.
    const signed = Boolean(sig.timestamp && sig.token && sig.signature);
    const domain = signed && account !== undefined && account.length <= 253 ? account : undefined;
    const keys =
      domain === undefined
        ? [config.mailgun.signingKey]
        : await secretsFor('mailgun', domain, config.mailgun.signingKey);
    const verdict = verifyMailgunSignature({
      timestamp: sig.timestamp,
      token: sig.token,
      signature: sig.signature,
      keys,
      nowMs: mg.now(),
      windowMs: config.mailgun.signatureWindowMs,
    });
    if (!verdict.ok) {
      metrics.signatureFailures.inc({ provider: 'mailgun' });
      if (verdict.reason === 'stale_timestamp') throw new RequestError(406, 'stale_timestamp', reasons.stale_timestamp);
      throw new RequestError(401, 'invalid_signature', reasons[verdict.reason]);
    }
    if (domain !== undefined) await deps.rateLimit?.('mailgun', [domain]);
    return { token: sig.token as string, signedAt: Number(sig.timestamp) };
  };

  const publishOnce = async (
    { token, signedAt }: { token: string; signedAt: number },
    batch: Parameters<PublishInbound>[0],
  ) => {
    const fresh = await mg.replay.guard(`mailgun:${token}`, signedAt, () => deps.publish(batch));
    if (!fresh) {
      metrics.signatureFailures.inc({ provider: 'mailgun' });
      throw new RequestError(406, 'replayed', 'this token was already accepted');
    }
  };

  const parked = (reason: string, body: string | Buffer, subject: string) =>
    parkedEvent({ provider: 'mailgun', source: SOURCE, reason, body, subject });

  app.register(async (scope) => {
    // Forwards come as forms; they reach the route as bytes so that the body limit holds.
    scope.addContentTypeParser(
      ['multipart/form-data', 'application/x-www-form-urlencoded'],
      { parseAs: 'buffer' },
      (_req, body, done) => done(null, body),
    );

    scope.post('/webhooks/mailgun/inbound', { bodyLimit: config.mailgun.bodyLimit }, async (req, reply) => {
      const form = await parseForm(formBody(req), req.headers['content-type'] ?? '').catch((err: Error) => {
        throw new RequestError(400, 'malformed_form', `body is not a valid form: ${err.message}`);
      });
      const signed = await admit(await mailgunInboundAccount(form), {
        timestamp: form.fields.get('timestamp'),
        token: form.fields.get('token'),
        signature: form.fields.get('signature'),
      });
      const normalized = form.fields.has('body-mime') ? await normalizeMailgunMime(form) : normalizeMailgunFields(form);
      const batch: Array<{ routingKey: string; event: CloudEvent }> = [];
      if (normalized.ok) {
        const e = normalized.data;
        batch.push({
          routingKey: mailgunRoutingKeys.email,
          event: createEvent({
            id: eventId('mailgun', 'email', e.accountId, e.messageId),
            source: SOURCE,
            type: inboundType(mailgunRoutingKeys.email),
            subject: e.messageId,
            data: e,
          }),
        });
      } else {
        const fields = Object.fromEntries([...form.fields].filter(([k]) => k !== 'signature'));
        batch.push(parked(normalized.reason, JSON.stringify(fields), req.id));
      }
      await publishOnce(signed, batch);
      if (normalized.ok) metrics.normalized.inc({ provider: 'mailgun', kind: mailgunRoutingKeys.email });
      else metrics.parked.inc({ provider: 'mailgun' });
      return reply.code(200).send({ status: 'accepted', events: normalized.ok ? 1 : 0, parked: normalized.ok ? 0 : 1 });
    });

    scope.post('/webhooks/mailgun/events', { bodyLimit: config.mailgun.eventBodyLimit }, async (req, reply) => {
      if (!Buffer.isBuffer(req.body))
        throw new RequestError(415, 'unsupported_media_type', 'expected application/json');
      const raw = req.body;
      // A body too deep to encode again is still verified (its signature sits near the top) and,
      // when signed, parked whole as it came rather than answered 400 for Mailgun to retry.
      const read = readJson(raw);
      if (!read.ok && read.tooDeep === undefined) throw new RequestError(400, 'malformed_json', read.error);
      const body = (read.ok ? read.value : read.tooDeep) as MailgunEventBody;
      const sig = body && typeof body === 'object' ? body.signature : undefined;
      const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
      const signed = await admit(mailgunEventAccount(body?.['event-data']), {
        timestamp: str(sig?.timestamp),
        token: str(sig?.token),
        signature: str(sig?.signature),
      });
      const normalized = read.ok
        ? normalizeMailgunEvent(body?.['event-data'])
        : { ok: false as const, reason: read.error };
      const batch = normalized.ok
        ? [
            {
              routingKey: mailgunRoutingKeys.event,
              event: createEvent({
                id: eventId('mailgun', 'event', normalized.data.accountId, normalized.data.mailgunEventId),
                source: SOURCE,
                type: inboundType(mailgunRoutingKeys.event),
                subject: normalized.data.messageId,
                data: normalized.data,
              }),
            },
          ]
        : [parked(normalized.reason, read.ok ? JSON.stringify(body?.['event-data'] ?? null) : raw, req.id)];
      await publishOnce(signed, batch);
      if (normalized.ok) metrics.normalized.inc({ provider: 'mailgun', kind: mailgunRoutingKeys.event });
      else {
        metrics.parked.inc({ provider: 'mailgun' });
        req.log.warn({ reason: normalized.reason }, 'parked mailgun event');
      }
      return reply.code(200).send({ status: 'accepted', events: normalized.ok ? 1 : 0, parked: normalized.ok ? 0 : 1 });
    });
  });
}

function formBody(req: FastifyRequest): Buffer {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const isForm = type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded');
  if (!Buffer.isBuffer(req.body) || !isForm) {
    throw new RequestError(
      415,
      'unsupported_media_type',
      'expected multipart/form-data or application/x-www-form-urlencoded',
    );
  }
  return req.body;
}
