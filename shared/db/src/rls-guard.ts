import { Gauge, type Registry } from '@switchboard/platform';
import { sql } from 'drizzle-orm';
import type { Executor } from './client.ts';

/**
 * Whether a service's database role is held by Row-Level Security. Connecting as the tables'
 * owner (or a superuser, or a BYPASSRLS role) works, but silently leaves tenant isolation to each
 * query's own filter again: the policies of migration 0020 no longer stand behind them. So the
 * services check their role at boot, log it, and export it for an alert (docs/production.md,
 * "Database roles").
 */
export const rlsMetrics = (registry: Registry) => {
  const bypassed = new Gauge({
    name: 'db_role_bypasses_rls',
    help: "1 when this process's database role is not held by Row-Level Security (a superuser, BYPASSRLS, or the tables' owner), 0 when it is, NaN until checked",
    registers: [registry],
  });
  bypassed.set(Number.NaN);
  return { bypassed };
};
export type RlsMetrics = ReturnType<typeof rlsMetrics>;

/** Why the connected role would not be held by Row-Level Security, or null when it is held. */
export async function rlsBypassOf(db: Executor): Promise<string | null> {
  const { rows } = await db.execute<{ rolname: string; rolsuper: boolean; rolbypassrls: boolean; owns: boolean }>(sql`
    select r.rolname, r.rolsuper, r.rolbypassrls,
           exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'public' and c.relname = 'customers' and pg_has_role(c.relowner, 'MEMBER')) as owns
      from pg_roles r where r.rolname = current_user`);
  const r = rows[0];
  if (!r) return null;
  if (r.rolsuper) return `${r.rolname} is a superuser`;
  if (r.rolbypassrls) return `${r.rolname} has BYPASSRLS`;
  if (r.owns) return `${r.rolname} owns the tables`;
  return null;
}

/**
 * Checks the role in the background (a database that is down at boot is waited for elsewhere;
 * this retries every `retryMs` until it gets an answer), then sets the gauge and logs an error
 * when the role bypasses Row-Level Security. Returns a stop for shutdown.
 */
export function watchRlsBypass(
  db: Executor,
  logger: { error: (obj: object, msg: string) => void },
  metrics: RlsMetrics,
  opts: { retryMs?: number } = {},
): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = () => {
    rlsBypassOf(db).then(
      (why) => {
        metrics.bypassed.set(why ? 1 : 0);
        if (why) logger.error({ why }, 'database role bypasses row-level security; connect as switchboard_app');
      },
      () => {
        if (!stopped) timer = setTimeout(check, opts.retryMs ?? 30_000).unref();
      },
    );
  };
  check();
  return async () => {
    stopped = true;
    clearTimeout(timer);
  };
}
