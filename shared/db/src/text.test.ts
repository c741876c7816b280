import { describe, expect, it } from 'vitest';
import { mayHoldUnstorableText, pgSafe } from './text.ts';

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

  it.each([
    ['half \ud83d', 'half \uFFFD'],
    ['\ude00 tail', '\uFFFD tail'],
    ['\ude00\ud83d', '\uFFFD\uFFFD'],
    ['whole \ud83d\ude00 kept', 'whole \ud83d\ude00 kept'],
    ['\ud83d\ud83d\ude00', '\uFFFD\ud83d\ude00'],
  ])('replaces lone surrogates: %j', (input, stored) => {
    expect(pgSafe({ text: input })).toEqual({ text: stored });
    // encodeURIComponent throws on a lone surrogate: the result is well-formed UTF-16.
    expect(() => encodeURIComponent(pgSafe(input))).not.toThrow();
  });

  it('tells which JSON texts may need it', () => {
    expect(mayHoldUnstorableText(JSON.stringify({ t: 'half \ud83d' }))).toBe(true);
    expect(mayHoldUnstorableText(JSON.stringify({ t: 'x\u0000' }))).toBe(true);
    expect(mayHoldUnstorableText(JSON.stringify({ t: 'whole \ud83d\ude00 é' }))).toBe(false);
  });
});
