import {
  canonicalSignature,
  type PublishInbound,
  type RateLimit,
  type ReplayCache,
  RequestError,
  rawJsonBody,
  type SecretsFor,
  verifyTimestamped,
} from '@switchboard/platform';
import type { FastifyRequest } from 'fastify';
import type { Metrics } from './metrics.ts';

export interface SignedDeps {
  metrics: Metrics;
  replay: ReplayCache;
  windowMs: number;
  now: () => number;
  /** A channel's valid secrets from the registry; without it, the env default only. */
  secretsFor?: SecretsFor;
  /** The per-channel request budget (429 over it); checked after the signature, before publishing. */
  rateLimit?: RateLimit;
}

/**
 * The secrets that may sign this request: its channel's (named by `accountId` in the unverified
 * body) or the env default. Which account the body claims cannot widen what verifies it: the
 * account's own secrets are the only ones tried, and the verified body names that account.
 */
export async function channelSecrets(
  req: FastifyRequest,
  provider: string,
  envDefault: string,
  deps: SignedDeps,
): Promise<string[]> {
  if (!deps.secretsFor || !Buffer.isBuffer(req.body)) return [envDefault];
  let accountId: unknown;
  try {
    accountId = (JSON.parse(req.body.toString('utf8')) as { accountId?: unknown })?.accountId;
  } catch {
    return [envDefault];
  }
  return secretsForAccount(provider, accountId, envDefault, deps);
}

/** The secrets of the account an unverified body names (or the env default when it names none). */
export async function secretsForAccount(
  provider: string,
  accountId: unknown,
  envDefault: string,
  deps: Pick<SignedDeps, 'secretsFor'>,
): Promise<string[]> {
  if (!deps.secretsFor || typeof accountId !== 'string' || accountId.length === 0 || accountId.length > 200) {
    return [envDefault];
  }
  return deps.secretsFor(provider, accountId, envDefault);
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
    const accounts = batch
      .map((b) => (b.event.data as { accountId?: unknown }).accountId)
      .filter((a): a is string => typeof a === 'string');
    await deps.rateLimit?.(provider, accounts);
    // Keyed on the digest, not the header as sent: a replay with its hex recased is the same request.
    const fresh = await deps.replay.guard(canonicalSignature(signature, 'hex') as string, () => publish(batch));
    if (!fresh) {
      deps.metrics.signatureFailures.inc({ provider, reason: 'replayed' });
      throw new RequestError(401, 'replayed', 'this signed request was already accepted');
    }
  };
  return { raw, publishOnce };
}
