import type { Database, Executor } from '@switchboard/db';
import type { Logger, Topology } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Background } from './background.ts';
import type { Metrics } from './metrics.ts';

export const CONSUMER = 'assignment-worker';
export const SOURCE = '/switchboard/assignment-worker';

/** One assignment's idle check, due `delayMs` after it began. */
export interface IdleCheck {
  tenantId: string;
  chatId: string;
  assignmentId: number;
  delayMs: number;
}

/** Scheduling of per-assignment idle checks (BullMQ in production). */
export interface IdleTimers {
  schedule(check: Omit<IdleCheck, 'delayMs'>, delayMs: number): Promise<void>;
}

export interface Deps {
  db: Database;
  pool: pg.Pool;
  names: Topology['names'];
  metrics: Metrics;
  logger: Logger;
  /** The worker's clock: when timers are due (idle, stuck) and when assignments begin and end. */
  now: () => Date;
  timers: IdleTimers;
  /** What runs on after an answer (next-chat's idle check); shutdown drains it before closing the timers. */
  background: Background;
}

export interface Settings {
  autoAssign: boolean;
  idleMinutes: number;
  stuckHours: number;
  stuckAction: 'complete' | 'flag';
}
export const DEFAULT_SETTINGS: Settings = { autoAssign: false, idleMinutes: 10, stuckHours: 24, stuckAction: 'flag' };

export async function settingsOf(tx: Executor, tenantId: string): Promise<Settings> {
  const r = await tx.execute<{
    auto_assign: boolean;
    idle_minutes: number;
    stuck_hours: number;
    stuck_action: string;
  }>(sql`
    select auto_assign, idle_minutes, stuck_hours, stuck_action from assignment_settings where tenant_id = ${tenantId}`);
  const row = r.rows[0];
  if (!row) return DEFAULT_SETTINGS;
  return {
    autoAssign: row.auto_assign,
    idleMinutes: row.idle_minutes,
    stuckHours: row.stuck_hours,
    stuckAction: row.stuck_action === 'complete' ? 'complete' : 'flag',
  };
}
