import { describe, expect, it } from 'vitest';
import { keyedMap } from './keyed-map.ts';

describe('keyedMap', () => {
  it('keeps keys apart that a joined string would merge', () => {
    const m = keyedMap<readonly [string, string], number>();
    m.set(['a/b', 'c'], 1);
    m.set(['a', 'b/c'], 2);
    expect(m.size).toBe(2);
    expect(m.get(['a/b', 'c'])).toBe(1);
    expect(m.get(['a', 'b/c'])).toBe(2);
  });

  it('finds a key by its parts, not by the array it was set with', () => {
    const m = keyedMap<readonly [string, string], string>([[['t', 'p'], 'x']]);
    expect(m.has(['t', 'p'])).toBe(true);
    expect(m.require(['t', 'p'], 'row')).toBe('x');
    expect(m.get(['p', 't'])).toBeUndefined();
  });

  it('names the missing key when a promised value is absent', () => {
    const m = keyedMap<readonly [string], string>();
    expect(() => m.require(['k'], 'customer')).toThrow('customer missing for ["k"]');
  });

  it('a later set replaces the value, and values() lists each key once', () => {
    const m = keyedMap<readonly [string], number>();
    m.set(['k'], 1);
    m.set(['k'], 2);
    expect([...m.values()]).toEqual([2]);
  });
});
