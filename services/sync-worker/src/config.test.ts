import type { SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import type { Deps } from './deps.ts';
import { syncWorkerJobs } from './jobs/sweeps.ts';

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
   * The sweep as the worker schedules it from its config, with a database stub that records the
   * cutoff of each run's query (the conversations idle since before it are closed).
   */
  function sweepFrom(env: Record<string, string>) {
    const now = new Date('2025-03-04T12:00:00Z');
    const cutoffs: unknown[] = [];
    const db = {
      execute: async (query: SQL) => {
        cutoffs.push(...new PgDialect().sqlToQuery(query).params);
        return { rows: [] };
      },
    };
    const silent = { info: () => undefined, warn: () => undefined };
    const deps = { db, now: () => now, logger: silent } as unknown as Deps;
    const job = syncWorkerJobs(loadConfig(env), deps).find((j) => j.name === 'inactivity-close');
    if (!job) throw new Error('no inactivity-close job');
    return { job, cutoffs, now };
  }

  it('reaches the sweep: every minute it closes what has been idle for that many minutes', async () => {
    const { job, cutoffs, now } = sweepFrom({ CONVERSATION_INACTIVITY_CLOSE_MINUTES: '90' });
    expect(job.everyMs).toBe(60_000);
    await job.run();
    expect(cutoffs).toEqual([new Date(now.getTime() - 90 * 60_000).toISOString(), 500]);
  });

  it('0 turns the sweep off: it is never scheduled', () => {
    expect(sweepFrom({ CONVERSATION_INACTIVITY_CLOSE_MINUTES: '0' }).job.everyMs).toBe(0);
  });
});

describe('RETENTION_EVERY_MS and INACTIVITY_CHECK_EVERY_MS', () => {
  it('set the periods of the scheduled sweeps; retention every 15 minutes by default, 0 off', () => {
    const periods = (env: Record<string, string>) =>
      Object.fromEntries(syncWorkerJobs(loadConfig(env), {} as Deps).map((j) => [j.name, j.everyMs]));
    // The per-tenant archive-then-delete job runs only where ARCHIVE_DIR is set (hourly by default).
    expect(periods({})).toEqual({ retention: 900_000, 'retention-archive': 0, 'inactivity-close': 60_000 });
    expect(periods({ RETENTION_EVERY_MS: '0', INACTIVITY_CHECK_EVERY_MS: '500' })).toEqual({
      retention: 0,
      'retention-archive': 0,
      'inactivity-close': 500,
    });
    expect(periods({ ARCHIVE_DIR: '/var/lib/switchboard/archive' })['retention-archive']).toBe(3_600_000);
    expect(periods({ ARCHIVE_DIR: '/a', RETENTION_ARCHIVE_EVERY_MS: '0' })['retention-archive']).toBe(0);
    expect(() => loadConfig({ RETENTION_EVERY_MS: '-1' })).toThrow(/RETENTION_EVERY_MS/);
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
