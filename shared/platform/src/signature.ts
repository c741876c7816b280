import { createHmac, timingSafeEqual } from 'node:crypto';

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
  if (!header?.startsWith('sha256=')) return false;
  const provided = Buffer.from(header.slice('sha256='.length), encoding);
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    // Every secret is checked, so timing does not tell which one matched.
    if (provided.length === expected.length && timingSafeEqual(provided, expected)) ok = true;
  }
  return ok;
}

export const signHmacSha256 = (rawBody: Buffer | string, secret: string, encoding: 'hex' | 'base64') =>
  `sha256=${createHmac('sha256', secret).update(rawBody).digest(encoding)}`;
