import { createEvent, ParkedPayload, parkedRoutingKey } from '@switchboard/contracts';
import { parseJson, RequestError, rawJsonBody, type SecretsFor, verifyHmacSha256 } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { normalizeWhatsApp, whatsappAccounts } from '../normalize/whatsapp.ts';

const Handshake = z.object({
  'hub.mode': z.literal('subscribe'),
  'hub.verify_token': z.string(),
  'hub.challenge': z.string().min(1),
});

const envSecretOnly: SecretsFor = async (_p, _a, envDefault) => [envDefault];

export function registerWhatsApp(app: FastifyInstance, deps: AppDeps): void {
  const { config, metrics, publish } = deps;
  const secretsFor = deps.secretsFor ?? envSecretOnly;

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

  app.post('/webhooks/whatsapp', { bodyLimit: config.whatsapp.bodyLimit }, async (req, reply) => {
    const raw = rawJsonBody(req);
    const signature = req.headers['x-hub-signature-256'];
    // Every business number the body names must accept the signature with its own secrets, so a
    // tenant's secret can never sign events for another tenant's number.
    const accounts = whatsappAccounts(raw);
    const verdicts = await Promise.all(
      (accounts.length > 0 ? accounts : [undefined]).map(async (account) =>
        verifyHmacSha256(
          raw,
          typeof signature === 'string' ? signature : undefined,
          account === undefined
            ? [config.whatsapp.appSecret]
            : await secretsFor('whatsapp', account, config.whatsapp.appSecret),
          'hex',
        ),
      ),
    );
    if (!verdicts.every(Boolean)) {
      metrics.signatureFailures.inc({ provider: 'whatsapp' });
      throw new RequestError(401, 'invalid_signature', 'X-Hub-Signature-256 does not match the body');
    }
    for (const account of accounts) await deps.rateLimit?.('whatsapp', account);
    const { events, parked } = normalizeWhatsApp(parseJson(raw));
    const batch = [
      ...events,
      ...parked.map((p, i) => ({
        routingKey: parkedRoutingKey('whatsapp'),
        event: createEvent({
          source: '/switchboard/ingest/whatsapp',
          type: 'switchboard.inbound.parked.v1',
          data: ParkedPayload.parse({ provider: 'whatsapp', reason: p.reason, body: JSON.stringify(p.fragment) }),
          subject: `${req.id}-${i}`,
        }),
      })),
    ];
    await publish(batch);
    for (const e of events) metrics.normalized.inc({ provider: 'whatsapp', kind: e.routingKey });
    if (parked.length > 0) {
      metrics.parked.inc({ provider: 'whatsapp' }, parked.length);
      req.log.warn({ parked: parked.map((p) => p.reason) }, 'parked unrecognized webhook parts');
    }
    return reply.code(200).send({ status: 'accepted', events: events.length, parked: parked.length });
  });
}
