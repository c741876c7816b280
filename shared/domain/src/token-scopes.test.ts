import { describe, expect, it } from 'vitest';
import { decideScope, parseTokenScopes } from './token-scopes.ts';

describe('decideScope', () => {
  it.each([
    [['read'], 'read', 'allow'],
    [['read'], 'operate', 'deny'],
    [['read', 'operate'], 'operate', 'allow'],
    [['admin'], 'read', 'deny'],
    [['admin'], 'admin', 'allow'],
    [['operate'], 'admin', 'deny'],
    [[], 'read', 'deny'],
  ] as const)('%j needing %s: %s', (granted, required, kind) => {
    expect(decideScope(granted, required).kind).toBe(kind);
  });
});

describe('parseTokenScopes', () => {
  it.each([
    ['read', ['read']],
    ['admin, read', ['read', 'admin']],
    ['operate,operate', ['operate']],
    ['read,operate,admin', ['read', 'operate', 'admin']],
  ])('%s', (text, scopes) => {
    expect(parseTokenScopes(text)).toEqual({ ok: true, scopes });
  });

  it.each(['', ' , ', 'write', 'read,root'])('refuses %j', (text) => {
    const r = parseTokenScopes(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('read, operate, admin');
  });
});
