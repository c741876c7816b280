import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from './config.ts';
import { inactivitySweep, startInactivityClose } from './inactivity.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('CONVERSATION_INACTIVITY_CLOSE_MINUTES', () => {
  const minutes = (value?: string) =>
    loadConfig(value === undefined ? {} : { CONVERSATION_INACTIVITY_CLOSE_MINUTES: value })
      .CONVERSATION_INACTIVITY_CLOSE_MINUTES;

  it('is parsed: a day by default, 0 for off, whole minutes', () => {
    expect(minutes()).toBe(24 * 60);
    expect(minutes('0')).toBe(0);
    expect(minutes('90')).toBe(90);
  });

  it.each(['-1', '1.5', 'soon'])('refuses %j, naming the variable', (value) => {
    expect(() => minutes(value)).toThrow(/CONVERSATION_INACTIVITY_CLOSE_MINUTES/);
  });

  /**
   * The sweep as the worker starts it from its config, on fake timers, with a database stub that
   * records the cutoff of each sweep's query (the conversations idle since before it are closed).
   */
  function sweepFrom(env: Record<string, string>) {
    vi.useFakeTimers();
    const now = new Date('2025-03-04T12:00:00Z');
    const cutoffs: unknown[] = [];
    const db = {
      execute: async (query: SQL) => {
        cutoffs.push(...new PgDialect().sqlToQuery(query).params);
        return { rows: [] };
      },
    };
    const silent = { info: () => undefined, warn: () => undefined };
    const deps = { db, now: () => now, logger: silent } as unknown as Parameters<typeof startInactivityClose>[0];
    return { sweep: startInactivityClose(deps, inactivitySweep(loadConfig(env))), cutoffs, now };
  }

  it('reaches the sweep: every minute it closes what has been idle for that many minutes', async () => {
    const { sweep, cutoffs, now } = sweepFrom({ CONVERSATION_INACTIVITY_CLOSE_MINUTES: '90' });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(cutoffs).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(cutoffs).toEqual([new Date(now.getTime() - 90 * 60_000).toISOString(), 500]);
    await sweep.stop();
  });

  it('0 turns the sweep off: it never runs', async () => {
    const { sweep, cutoffs } = sweepFrom({ CONVERSATION_INACTIVITY_CLOSE_MINUTES: '0' });
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(cutoffs).toEqual([]);
    await sweep.stop();
  });
});

describe('DEFAULT_PHONE_REGION', () => {
  it('is an ISO region in any case, or unset (empty counts as unset)', () => {
    expect(loadConfig({}).DEFAULT_PHONE_REGION).toBeUndefined();
    expect(loadConfig({ DEFAULT_PHONE_REGION: '' }).DEFAULT_PHONE_REGION).toBeUndefined();
    expect(loadConfig({ DEFAULT_PHONE_REGION: 'us' }).DEFAULT_PHONE_REGION).toBe('US');
    expect(() => loadConfig({ DEFAULT_PHONE_REGION: 'XX' })).toThrow(/DEFAULT_PHONE_REGION/);
  });
});
