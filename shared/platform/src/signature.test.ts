import { describe, expect, it } from 'vitest';
import { signHmacSha256, verifyHmacSha256 } from './signature.ts';

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
  ])('rejects %s', (_name, header) => {
    expect(verifyHmacSha256(body, header, ['s3cret'], 'hex')).toBe(false);
  });

  it('rejects a signature over different bytes', () => {
    const header = signHmacSha256(body, 's3cret', 'hex');
    expect(verifyHmacSha256(Buffer.from(`${body.toString()} `), header, ['s3cret'], 'hex')).toBe(false);
  });
});
