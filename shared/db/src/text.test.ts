import { describe, expect, it } from 'vitest';
import { pgSafe } from './text.ts';

describe('pgSafe', () => {
  it('replaces NUL in strings, nested values and keys, and leaves the rest alone', () => {
    expect(pgSafe({ a: 'x\u0000y', b: ['\u0000'], c: 1, 'k\u0000': null, d: 'plain \\u0000' })).toEqual({
      a: 'x\uFFFDy',
      b: ['\uFFFD'],
      c: 1,
      'k\uFFFD': null,
      d: 'plain \\u0000',
    });
  });
});
