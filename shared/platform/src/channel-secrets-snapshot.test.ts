import { describe, expect, it } from 'vitest';
import { type ChannelSecretsSnapshot, openSnapshot, sealSnapshot } from './channel-secrets-snapshot.ts';

const snapshot: ChannelSecretsSnapshot = {
  version: 1_700_000_000_000,
  channels: [
    {
      provider: 'whatsapp',
      accountId: '106540352242999',
      status: 'active',
      secrets: [
        { secret: 'new-secret', expiresAt: null },
        { secret: 'old-secret', expiresAt: 1_700_000_600_000 },
      ],
    },
  ],
};

describe('the sealed channel-secrets snapshot', () => {
  it('opens with the key it was sealed with, to exactly what was sealed', () => {
    expect(openSnapshot(sealSnapshot(snapshot, 'k1'), 'k1')).toEqual(snapshot);
  });

  it('shows neither the secrets nor the accounts to someone reading Redis', () => {
    const sealed = sealSnapshot(snapshot, 'k1');
    for (const plain of ['new-secret', 'old-secret', '106540352242999', 'whatsapp']) {
      expect(sealed).not.toContain(plain);
      expect(Buffer.from(sealed.split('.')[3] ?? '', 'base64url').toString('latin1')).not.toContain(plain);
    }
  });

  it('refuses another key, a tampered body or tag, a truncated tag, and anything else', () => {
    const sealed = sealSnapshot(snapshot, 'k1');
    const [v, iv, tag, body] = sealed.split('.') as [string, string, string, string];
    const flip = (s: string) => {
      const b = Buffer.from(s, 'base64url');
      b[0] = (b[0] ?? 0) ^ 1;
      return b.toString('base64url');
    };
    expect(() => openSnapshot(sealed, 'k2')).toThrow(/does not open/);
    expect(() => openSnapshot([v, iv, tag, flip(body)].join('.'), 'k1')).toThrow(/does not open/);
    expect(() => openSnapshot([v, iv, flip(tag), body].join('.'), 'k1')).toThrow(/does not open/);
    const short = Buffer.from(tag, 'base64url').subarray(0, 8).toString('base64url');
    expect(() => openSnapshot([v, iv, short, body].join('.'), 'k1')).toThrow();
    expect(() => openSnapshot('{"version":1,"channels":[]}', 'k1')).toThrow(/not a sealed/);
  });

  it('seals the same snapshot differently each time (a fresh IV)', () => {
    expect(sealSnapshot(snapshot, 'k1')).not.toBe(sealSnapshot(snapshot, 'k1'));
  });
});
