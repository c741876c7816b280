import {
  type Parked,
  parkedEvent,
  RequestError,
  rawJsonBody,
  readJson,
  type SecretsFor,
  signatureDigest,
  verifyHmacSha256,
} from '@switchboard/platform';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { MAX_ACCOUNTS_PER_WEBHOOK, normalizeWhatsApp, whatsappAccounts } from '../normalize/whatsapp.ts';
import type { AppDeps } from './deps.ts';

const Handshake = z.object({
  'hub.mode': z.literal('subscribe'),
  'hub.verify_token': z.string(),
  'hub.challenge': z.string().min(1),
});

const SOURCE = '/switchboard/ingest/whatsapp';
const envSecretOnly: SecretsFor = async (_p, _a, envDefault) => [envDefault];

export function registerWhatsApp(app: FastifyInstance, deps: AppDeps): void {
  const { config, metrics, publish } = deps;
  const secretsFor = deps.secretsFor ?? envSecretOnly;
  const appSecret = config.whatsapp.appSecret;

  // Meta's subscription handshake: echo the challenge when the verify token matches.
  app.get('/webhooks/whatsapp', async (req, reply) => {
    const q = Handshake.safeParse(req.query);
    if (!q.success)
      throw new RequestError(400, 'bad_request', 'expected hub.mode=subscribe, hub.verify_token and hub.challenge');
    if (q.data['hub.verify_token'] !== config.whatsapp.verifyToken) {
      throw new RequestError(403, 'forbidden', 'verify token does not match');
    }
    return reply.type('text/plain').send(q.data['hub.challenge']);
  });

  /**
   * Every business number the body names must accept the signature with its own secrets, so a
   * tenant's secret can never sign events for another tenant's number. A body that names none
   * (or is not JSON: nothing in it says whose it is) verifies with the app secret alone, and so
   * does one naming more numbers than a Meta batch holds: a lookup per number is what an
   * unauthenticated request must not be able to buy. A malformed header costs no lookup at all.
   */
  async function verified(raw: Buffer, signature: string | undefined, accounts: string[]): Promise<boolean> {
    if (!signatureDigest(signature, 'hex')) return false;
    if (accounts.length === 0 || accounts.length > MAX_ACCOUNTS_PER_WEBHOOK) {
      return verifyHmacSha256(raw, signature, [appSecret], 'hex');
    }
    const verdicts = await Promise.all(
      accounts.map(async (a) => verifyHmacSha256(raw, signature, await secretsFor('whatsapp', a, appSecret), 'hex')),
    );
    return verdicts.every(Boolean);
  }

  /** Publishes signed parts it could not normalize to `parked.whatsapp`, with the events it could. */
  async function accept(
    req: FastifyRequest,
    reply: FastifyReply,
    events: Parameters<typeof publish>[0],
    parked: Array<Pick<Parked, 'reason' | 'body' | 'contentType'>>,
  ) {
    await publish([
      ...events,
      ...parked.map((p, i) => parkedEvent({ ...p, provider: 'whatsapp', source: SOURCE, subject: `${req.id}-${i}` })),
    ]);
    for (const e of events) metrics.normalized.inc({ provider: 'whatsapp', kind: e.routingKey });
    if (parked.length > 0) {
      metrics.parked.inc({ provider: 'whatsapp' }, parked.length);
      req.log.warn({ parked: parked.map((p) => p.reason) }, 'parked unrecognized webhook parts');
    }
    return reply.code(200).send({ status: 'accepted', events: events.length, parked: parked.length });
  }

  app.post('/webhooks/whatsapp', { bodyLimit: config.whatsapp.bodyLimit }, async (req, reply) => {
    const raw = rawJsonBody(req);
    const signature = req.headers['x-hub-signature-256'];
    const body = readJson(raw);
    const accounts = body.ok ? whatsappAccounts(body.value) : [];
    if (!(await verified(raw, typeof signature === 'string' ? signature : undefined, accounts))) {
      metrics.signatureFailures.inc({ provider: 'whatsapp' });
      throw new RequestError(401, 'invalid_signature', 'X-Hub-Signature-256 does not match the body');
    }
    // Signed but unreadable, or naming more numbers than we look up: kept whole, as it came.
    const whole = { body: raw, contentType: req.headers['content-type'] };
    if (!body.ok) return accept(req, reply, [], [{ ...whole, reason: `malformed_json: ${body.error}` }]);
    if (accounts.length > MAX_ACCOUNTS_PER_WEBHOOK) {
      const reason = `too_many_accounts: names more than ${MAX_ACCOUNTS_PER_WEBHOOK} business numbers`;
      return accept(req, reply, [], [{ ...whole, reason }]);
    }
    await deps.rateLimit?.('whatsapp', accounts);
    const { events, parked } = normalizeWhatsApp(body.value);
    return accept(
      req,
      reply,
      events,
      parked.map((p) => ({ reason: p.reason, body: JSON.stringify(p.fragment) })),
    );
  });
}
