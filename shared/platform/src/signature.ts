import { createHmac, timingSafeEqual } from 'node:crypto';

// A SHA-256 digest written out whole: 64 hex digits, or 44 base64 characters (the padding optional).
const digestFormat = { hex: /^[0-9a-fA-F]{64}$/, base64: /^[A-Za-z0-9+/]{43}=?$/ } as const;

/**
 * The digest of a `sha256=<digest>` header, or undefined when the header is not exactly that.
 * Strict on purpose: Node's decoders stop quietly at the first character they cannot read, so
 * two joined headers (`sha256=<good>, sha256=<other>`) or trailing junk would otherwise pass, and
 * base64 has spare bits in its last character, so one digest has several spellings: only the
 * canonical one is taken. Routes check it before any secret lookup: a request without one cannot
 * verify. (Hex may come in either case; `canonicalSignature` names a digest one way.)
 */
export function signatureDigest(header: string | undefined, encoding: 'hex' | 'base64'): Buffer | undefined {
  if (!header?.startsWith('sha256=')) return undefined;
  const digest = header.slice('sha256='.length);
  if (!digestFormat[encoding].test(digest)) return undefined;
  const bytes = Buffer.from(digest, encoding);
  if (encoding === 'base64' && bytes.toString('base64').slice(0, 43) !== digest.slice(0, 43)) return undefined;
  return bytes;
}

/**
 * One spelling per digest (`sha256=<lowercase hex>`), for remembering which signed requests were
 * accepted: keyed on the header as sent, a replay with the hex in upper case would pass as new.
 */
export function canonicalSignature(header: string | undefined, encoding: 'hex' | 'base64'): string | undefined {
  const digest = signatureDigest(header, encoding);
  return digest && `sha256=${digest.toString('hex')}`;
}

/**
 * Checks `sha256=<digest>` against HMAC-SHA256 of the raw body, in constant time. The digest is
 * compared as bytes, so the encoding (hex for Meta, base64 for Genesys) only changes the parse.
 */
export function verifyHmacSha256(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
  encoding: 'hex' | 'base64',
): boolean {
  const provided = signatureDigest(header, encoding);
  if (!provided) return false;
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    // Every secret is checked, so timing does not tell which one matched.
    if (timingSafeEqual(provided, expected)) ok = true;
  }
  return ok;
}

export const signHmacSha256 = (rawBody: Buffer | string, secret: string, encoding: 'hex' | 'base64') =>
  `sha256=${createHmac('sha256', secret).update(rawBody).digest(encoding)}`;

/**
 * The signature scheme of our own business-system webhooks (helpdesk, agent desk):
 * `X-Signature-256: sha256=<hex HMAC-SHA256 of "<X-Timestamp>.<raw body>">`, with `X-Timestamp`
 * in unix seconds. The timestamp is inside the MAC, so a captured request cannot be replayed later
 * under a fresh timestamp; within the window the replay cache refuses it.
 */
export const signTimestamped = (rawBody: Buffer | string, secret: string, timestamp: string | number) =>
  `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;

export type TimestampedVerdict =
  | { ok: true; timestampMs: number }
  | { ok: false; reason: 'missing_signature' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature' };

/**
 * What can be checked of a timestamped request without any secret: a signature header of the
 * right form (`sha256=<64 hex>`), and a timestamp in unix seconds inside the window. Edges check
 * this before they look up the secrets of the account the unverified body names, so a request
 * that cannot verify costs the channel registry nothing. A malformed header is `bad_signature`:
 * no secret could make it match.
 */
export function checkTimestampedHeaders(opts: {
  signature: string | undefined;
  timestamp: string | undefined;
  nowMs: number;
  windowMs: number;
}): TimestampedVerdict {
  if (!opts.signature) return { ok: false, reason: 'missing_signature' };
  if (!opts.timestamp || !/^\d{1,12}$/.test(opts.timestamp)) return { ok: false, reason: 'bad_timestamp' };
  const timestampMs = Number(opts.timestamp) * 1000;
  if (Math.abs(opts.nowMs - timestampMs) > opts.windowMs) return { ok: false, reason: 'stale_timestamp' };
  if (!signatureDigest(opts.signature, 'hex')) return { ok: false, reason: 'bad_signature' };
  return { ok: true, timestampMs };
}

export function verifyTimestamped(opts: {
  rawBody: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
  secrets: readonly string[];
  nowMs: number;
  windowMs: number;
}): TimestampedVerdict {
  const headers = checkTimestampedHeaders(opts);
  if (!headers.ok) return headers;
  const signed = Buffer.concat([Buffer.from(`${opts.timestamp}.`), opts.rawBody]);
  if (!verifyHmacSha256(signed, opts.signature, opts.secrets, 'hex')) return { ok: false, reason: 'bad_signature' };
  return headers;
}
