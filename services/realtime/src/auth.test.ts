import { describe, expect, it } from 'vitest';
import { createAuth, tokenOf } from './auth.ts';

const tenant = { tenantId: '7d3c1f0e-2b4a-4c5d-8e6f-0a1b2c3d4e5f', slug: 'dev' };
const auth = (secret: string, now: () => number) =>
  createAuth({ readApiUrl: 'http://127.0.0.1:9', secret, ttlSeconds: 60, cacheMs: 1_000, now });

describe('browser tokens', () => {
  it('authenticate as the tenant they were minted for, until they expire', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const a = auth('k1', () => clock);
    const { token, expiresAt } = await a.mint(tenant);
    expect(expiresAt).toBe('2026-01-01T00:01:00.000Z');
    expect(await a.authenticate(token)).toEqual(tenant);
    clock += 61_000;
    expect(await a.authenticate(token)).toBeNull();
  });

  it('are refused when signed with another key, or tampered with', async () => {
    const { token } = await auth('k1', Date.now).mint(tenant);
    expect(await auth('k2', Date.now).authenticate(token)).toBeNull();
    const [h, , s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ sub: 'other', slug: 'x', aud: 'switchboard-realtime' })).toString(
      'base64url',
    );
    expect(await auth('k1', Date.now).authenticate(`${h}.${forged}.${s}`)).toBeNull();
  });
});

it('tokenOf prefers the Authorization header, else the token query parameter', () => {
  expect(tokenOf({ authorization: 'Bearer abc' }, new URL('http://x/ws?token=def'))).toBe('abc');
  expect(tokenOf({}, new URL('http://x/ws?token=def'))).toBe('def');
  expect(tokenOf({}, new URL('http://x/ws'))).toBeUndefined();
});
