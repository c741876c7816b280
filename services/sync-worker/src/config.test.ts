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
   * The sweep as the worker schedules it from its config, with database stubs: one tenant in the
   * registry, and a pool whose connection records the parameters of each statement the run sends
   * under that tenant (the cutoff of the conversations idle since before it, and the limit).
   */
  function sweepFrom(env: Record<string, string>) {
    const now = new Date('2025-03-04T12:00:00Z');
    const cutoffs: unknown[] = [];
    const sent: string[] = [];
    const db = {
      execute: async (query: SQL) => {
        expect(new PgDialect().sqlToQuery(query).sql).toMatch(/from tenants/);
        return { rows: [{ id: '6f1c8a5e-0000-4000-8000-000000000001' }] };
      },
    };
    const client = {
      query: async (q: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
        sent.push(typeof q === 'string' ? q : q.text);
        if (typeof q !== 'string') cutoffs.push(...(q.values ?? values ?? []));
        return { rows: [], rowCount: 0 };
      },
      release: () => undefined,
    };
    const pool = { connect: async () => client };
    const silent = { info: () => undefined, warn: () => undefined };
    const deps = { db, pool, now: () => now, logger: silent } as unknown as Deps;
    const job = syncWorkerJobs(loadConfig(env), deps).find((j) => j.name === 'inactivity-close');
    if (!job) throw new Error('no inactivity-close job');
    return { job, cutoffs, sent, now };
  }

  it('reaches the sweep: every minute it closes what has been idle for that many minutes', async () => {
    const { job, cutoffs, sent, now } = sweepFrom({ CONVERSATION_INACTIVITY_CLOSE_MINUTES: '90' });
    expect(job.everyMs).toBe(60_000);
    await job.run();
    expect(cutoffs).toEqual([new Date(now.getTime() - 90 * 60_000).toISOString(), 500]);
    // Under the tenant the registry named (Row-Level Security), in a transaction of its own.
    expect(sent[0]).toBe(`begin; select set_config('app.tenant_id', '6f1c8a5e-0000-4000-8000-000000000001', true)`);
    expect(sent.at(-1)).toBe('commit');
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
