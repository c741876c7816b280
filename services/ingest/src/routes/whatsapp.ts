import { createEvent, ParkedPayload, parkedRoutingKey } from '@switchboard/contracts';
import { parseJson, RequestError, rawJsonBody, verifyHmacSha256 } from '@switchboard/platform';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../app.ts';
import { normalizeWhatsApp } from '../normalize/whatsapp.ts';

const Handshake = z.object({
  'hub.mode': z.literal('subscribe'),
  'hub.verify_token': z.string(),
  'hub.challenge': z.string().min(1),
});

export function registerWhatsApp(app: FastifyInstance, deps: AppDeps): void {
  const { config, metrics, publish } = deps;

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
    if (
      !verifyHmacSha256(raw, typeof signature === 'string' ? signature : undefined, [config.whatsapp.appSecret], 'hex')
    ) {
      metrics.signatureFailures.inc({ provider: 'whatsapp' });
      throw new RequestError(401, 'invalid_signature', 'X-Hub-Signature-256 does not match the body');
    }
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
