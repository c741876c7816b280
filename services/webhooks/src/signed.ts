import {
  type PublishInbound,
  type ReplayCache,
  RequestError,
  rawJsonBody,
  verifyTimestamped,
} from '@switchboard/platform';
import type { FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.ts';

export interface SignedDeps {
  metrics: Metrics;
  replay: ReplayCache;
  windowMs: number;
  now: () => number;
}

const reasons = {
  missing_signature: 'X-Signature-256 is missing',
  bad_timestamp: 'X-Timestamp must be unix seconds',
  stale_timestamp: 'X-Timestamp is outside the signature window',
  bad_signature: 'X-Signature-256 does not match X-Timestamp and the body',
} as const;

const header = (req: FastifyRequest, name: string) => {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
};

/**
 * The helpdesk and agent-desk scheme: checks `X-Signature-256` over `X-Timestamp` and the raw body
 * (401 with the reason otherwise) and returns the raw body plus a `publish` that refuses a request
 * already accepted within the window (401 `replayed`). The replay claim is taken only around the
 * publish and released if the publish fails, so the sender's retry after a 503 goes through.
 */
export function verifySigned(req: FastifyRequest, provider: string, secrets: readonly string[], deps: SignedDeps) {
  const raw = rawJsonBody(req);
  const signature = header(req, 'x-signature-256');
  const verdict = verifyTimestamped({
    rawBody: raw,
    signature,
    timestamp: header(req, 'x-timestamp'),
    secrets,
    nowMs: deps.now(),
    windowMs: deps.windowMs,
  });
  if (!verdict.ok) {
    deps.metrics.signatureFailures.inc({ provider, reason: verdict.reason });
    throw new RequestError(401, 'invalid_signature', reasons[verdict.reason]);
  }
  const publishOnce = async (publish: PublishInbound, batch: Parameters<PublishInbound>[0]) => {
    const fresh = await deps.replay.guard(signature as string, () => publish(batch));
    if (!fresh) {
      deps.metrics.signatureFailures.inc({ provider, reason: 'replayed' });
      throw new RequestError(401, 'replayed', 'this signed request was already accepted');
    }
  };
  return { raw, publishOnce };
}
