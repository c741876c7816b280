import { boundSenderTime } from '@switchboard/domain';
import {
  canonicalSignature,
  checkTimestampedHeaders,
  type PublishInbound,
  type RateLimit,
  type ReplayCache,
  RequestError,
  rawJsonBody,
  readJson,
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
 * (401 with the reason otherwise) and returns the verified body, parsed (400 when it is not JSON),
 * plus a `publish` that refuses a request already accepted within the window (401 `replayed`).
 *
 * What needs no secret comes first: a missing or malformed signature header, or a timestamp that
 * is not unix seconds or is outside the window, is refused before any lookup, so such requests
 * cost the channel registry nothing. Only then are the secrets looked up: those of the account
 * the (not yet verified) body names, or the env default when it names none or is not JSON. Naming
 * another account cannot widen them: its own secrets are the only ones tried, and the verified
 * body names that account. The body is parsed once, for both.
 *
 * The replay claim is taken only around the publish and released if the publish fails, so the
 * sender's retry after a 503 goes through.
 */
export async function verifySigned(req: FastifyRequest, provider: string, envDefault: string, deps: SignedDeps) {
  const raw = rawJsonBody(req);
  const signature = header(req, 'x-signature-256');
  const timestamp = header(req, 'x-timestamp');
  const clock = { nowMs: deps.now(), windowMs: deps.windowMs };
  const refuse = (reason: keyof typeof reasons) => {
    deps.metrics.signatureFailures.inc({ provider, reason });
    return new RequestError(401, 'invalid_signature', reasons[reason]);
  };
  const headers = checkTimestampedHeaders({ signature, timestamp, ...clock });
  if (!headers.ok) throw refuse(headers.reason);
  const body = readJson(raw);
  const accountId = body.ok ? (body.value as { accountId?: unknown } | null)?.accountId : undefined;
  const secrets = await secretsForAccount(provider, accountId, envDefault, deps);
  const verdict = verifyTimestamped({ rawBody: raw, signature, timestamp, secrets, ...clock });
  if (!verdict.ok) throw refuse(verdict.reason);
  if (!body.ok) throw new RequestError(400, 'malformed_json', body.error);
  const publishOnce = async (publish: PublishInbound, batch: Parameters<PublishInbound>[0]) => {
    const accounts = batch
      .map((b) => (b.event.data as { accountId?: unknown }).accountId)
      .filter((a): a is string => typeof a === 'string');
    await deps.rateLimit?.(provider, accounts);
    // Keyed on the digest, not the header as sent: a replay with its hex recased is the same request.
    const fresh = await deps.replay.guard(canonicalSignature(signature, 'hex') as string, Number(timestamp), () =>
      publish(batch),
    );
    if (!fresh) {
      deps.metrics.signatureFailures.inc({ provider, reason: 'replayed' });
      throw new RequestError(401, 'replayed', 'this signed request was already accepted');
    }
  };
  return { body: body.value, publishOnce };
}

/**
 * The sender's `occurredAt`, bounded by the time its request was verified (`boundSenderTime`):
 * a date in the future is clamped, counted and logged, so it cannot make later real events stale.
 */
export function boundedOccurredAt(
  req: FastifyRequest,
  provider: string,
  occurredAt: string,
  deps: { signed: Pick<SignedDeps, 'now' | 'metrics'> },
): string {
  const bounded = boundSenderTime(occurredAt, new Date(deps.signed.now()));
  if (bounded.clamped) {
    deps.signed.metrics.senderClockClamped.inc({ provider });
    req.log.warn({ provider, occurredAt, clampedTo: bounded.at }, 'sender clock ahead, occurredAt clamped');
  }
  return bounded.at;
}
