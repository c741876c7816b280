import { describe, expect, it } from 'vitest';
import {
  canonicalSignature,
  checkTimestampedHeaders,
  signHmacSha256,
  signTimestamped,
  verifyHmacSha256,
  verifyTimestamped,
} from './signature.ts';

const body = Buffer.from('{"object":"whatsapp_business_account"}');

describe('verifyHmacSha256', () => {
  it.each(['hex', 'base64'] as const)('accepts a %s signature made with the secret', (encoding) => {
    expect(verifyHmacSha256(body, signHmacSha256(body, 's3cret', encoding), ['s3cret'], encoding)).toBe(true);
  });

  it('accepts any of several secrets (rotation)', () => {
    expect(verifyHmacSha256(body, signHmacSha256(body, 'new', 'hex'), ['old', 'new'], 'hex')).toBe(true);
  });

  it.each([
    ['missing header', undefined],
    ['no prefix', signHmacSha256(body, 's3cret', 'hex').slice(7)],
    ['wrong secret', signHmacSha256(body, 'other', 'hex')],
    ['truncated digest', signHmacSha256(body, 's3cret', 'hex').slice(0, 40)],
    ['not hex', 'sha256=zzzz'],
    ['empty digest', 'sha256='],
    ['two headers joined, the first one right', `${signHmacSha256(body, 's3cret', 'hex')}, sha256=${'0'.repeat(64)}`],
    ['trailing junk after the digest', `${signHmacSha256(body, 's3cret', 'hex')}zz`],
    ['a base64 digest where hex is expected', signHmacSha256(body, 's3cret', 'base64')],
  ])('rejects %s', (_name, header) => {
    expect(verifyHmacSha256(body, header, ['s3cret'], 'hex')).toBe(false);
  });

  it('rejects a base64 digest with junk after it, which a lenient decoder would read past', () => {
    const good = signHmacSha256(body, 's3cret', 'base64');
    expect(verifyHmacSha256(body, good, ['s3cret'], 'base64')).toBe(true);
    expect(verifyHmacSha256(body, `${good}, sha256=AAAA`, ['s3cret'], 'base64')).toBe(false);
    expect(verifyHmacSha256(body, good.replace(/=$/, ''), ['s3cret'], 'base64')).toBe(true);
  });

  it('takes only the canonical spelling of a base64 digest (its last character has spare bits)', () => {
    const good = signHmacSha256(body, 's3cret', 'base64');
    const last = good.at(-2) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    // The same four significant bits with other spare bits: decodes to the same digest.
    const twin = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)] as string;
    const variant = `${good.slice(0, -2)}${twin}=`;
    expect(Buffer.from(variant.slice(7), 'base64').equals(Buffer.from(good.slice(7), 'base64'))).toBe(true);
    expect(verifyHmacSha256(body, variant, ['s3cret'], 'base64')).toBe(false);
  });

  it('names a digest one way, whatever the case of its hex', () => {
    const good = signHmacSha256(body, 's3cret', 'hex');
    const upper = `sha256=${good.slice(7).toUpperCase()}`;
    expect(verifyHmacSha256(body, upper, ['s3cret'], 'hex')).toBe(true);
    expect(canonicalSignature(upper, 'hex')).toBe(good);
    expect(canonicalSignature(good, 'hex')).toBe(good);
    expect(canonicalSignature('sha256=zz', 'hex')).toBeUndefined();
  });

  it('rejects a signature over different bytes', () => {
    const header = signHmacSha256(body, 's3cret', 'hex');
    expect(verifyHmacSha256(Buffer.from(`${body.toString()} `), header, ['s3cret'], 'hex')).toBe(false);
  });
});

describe('verifyTimestamped (helpdesk and agent-desk scheme)', () => {
  const now = 1_767_000_000_000;
  const ts = String(now / 1000);
  const check = (over: Partial<Parameters<typeof verifyTimestamped>[0]> = {}) =>
    verifyTimestamped({
      rawBody: body,
      signature: signTimestamped(body, 's3cret', ts),
      timestamp: ts,
      secrets: ['s3cret'],
      nowMs: now,
      windowMs: 300_000,
      ...over,
    });

  it('accepts a fresh request signed with the secret', () => {
    expect(check()).toEqual({ ok: true, timestampMs: now });
  });

  it('accepts clock skew inside the window, either way', () => {
    expect(check({ nowMs: now + 299_000 }).ok).toBe(true);
    expect(check({ nowMs: now - 299_000 }).ok).toBe(true);
  });

  it.each([
    ['missing_signature', { signature: undefined }],
    ['bad_timestamp', { timestamp: undefined }],
    ['bad_timestamp', { timestamp: '2026-01-01T00:00:00Z' }],
    ['stale_timestamp', { nowMs: now + 301_000 }],
    ['bad_signature', { secrets: ['other'] }],
    // The timestamp is signed: moving it forward to look fresh breaks the signature.
    ['bad_signature', { timestamp: String(now / 1000 + 1), nowMs: now }],
    // A body-only signature is not this scheme.
    ['bad_signature', { signature: signHmacSha256(body, 's3cret', 'hex') }],
  ] as const)('rejects with %s', (reason, over) => {
    expect(check(over)).toEqual({ ok: false, reason });
  });
});

describe('checkTimestampedHeaders (before any secret is looked up)', () => {
  const now = 1_767_000_000_000;
  const ts = String(now / 1000);
  const check = (over: Partial<Parameters<typeof checkTimestampedHeaders>[0]> = {}) =>
    checkTimestampedHeaders({
      signature: `sha256=${'ab'.repeat(32)}`,
      timestamp: ts,
      nowMs: now,
      windowMs: 300_000,
      ...over,
    });

  it('passes a well-formed signature with a fresh timestamp, whoever made it', () => {
    expect(check()).toEqual({ ok: true, timestampMs: now });
    expect(check({ signature: `sha256=${'AB'.repeat(32)}` }).ok).toBe(true);
  });

  it.each([
    ['missing_signature', { signature: undefined }],
    ['bad_timestamp', { timestamp: 'yesterday' }],
    ['stale_timestamp', { nowMs: now - 301_000 }],
    ['bad_signature', { signature: 'sha256=zz' }],
    ['bad_signature', { signature: `sha1=${'ab'.repeat(20)}` }],
    ['bad_signature', { signature: `sha256=${'ab'.repeat(32)}, sha256=${'cd'.repeat(32)}` }],
    // Base64 is Genesys' encoding, not this scheme's.
    ['bad_signature', { signature: `sha256=${Buffer.alloc(32, 1).toString('base64')}` }],
  ] as const)('rejects with %s', (reason, over) => {
    expect(check(over)).toEqual({ ok: false, reason });
  });
});
