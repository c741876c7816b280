import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Mailgun's webhook signature: hex HMAC-SHA256 of `timestamp + token` with the webhook signing
 * key, compared in constant time; the timestamp (unix seconds) must be within `windowMs` of now.
 * Every key is checked, so timing does not tell which one matched.
 */
export type MailgunVerdict =
  | { ok: true }
  | { ok: false; reason: 'missing_signature' | 'bad_signature' | 'stale_timestamp' };

export function verifyMailgunSignature(input: {
  timestamp: string | undefined;
  token: string | undefined;
  signature: string | undefined;
  keys: readonly string[];
  nowMs: number;
  windowMs: number;
}): MailgunVerdict {
  const { timestamp, token, signature } = input;
  if (!timestamp || !token || !signature) return { ok: false, reason: 'missing_signature' };
  if (!/^[0-9a-fA-F]{64}$/.test(signature) || !/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'bad_signature' };
  const provided = Buffer.from(signature, 'hex');
  let ok = false;
  for (const key of input.keys) {
    const expected = createHmac('sha256', key)
      .update(timestamp + token)
      .digest();
    if (timingSafeEqual(provided, expected)) ok = true;
  }
  if (!ok) return { ok: false, reason: 'bad_signature' };
  if (Math.abs(input.nowMs - Number(timestamp) * 1000) > input.windowMs)
    return { ok: false, reason: 'stale_timestamp' };
  return { ok: true };
}

export const signMailgun = (timestamp: string, token: string, key: string) =>
  createHmac('sha256', key)
    .update(timestamp + token)
    .digest('hex');
