import { appendOutbox, type Executor, transaction } from '@switchboard/db';
import { recordCounts } from '@switchboard/platform';
import type { Applied } from './applied.ts';
import type { Deps } from './deps.ts';

/**
 * Runs `fn` in a transaction with the outbox of what it applied; once it committed, records its
 * metrics and schedules the idle checks of the assignments it made.
 */
export async function commit<T extends { applied: Applied[] }>(
  deps: Deps,
  fn: (tx: Executor) => Promise<T>,
): Promise<T> {
  const out = await transaction(deps.pool, async (tx) => {
    const r = await fn(tx);
    await appendOutbox(
      tx,
      r.applied.flatMap((a) => a.outbox),
    );
    return r;
  });
  await afterCommit(deps, out.applied);
  return out;
}

/** Metrics now; idle checks in the background (a crash before they are scheduled loses nothing: the sweep finds them). */
export function afterCommit(deps: Deps, applied: Applied[]): Promise<void> {
  recordCounts(
    deps.metrics,
    applied.flatMap((a) => a.counts),
  );
  return scheduleIdle(deps, applied);
}

async function scheduleIdle(deps: Deps, applied: Applied[]): Promise<void> {
  for (const i of applied.flatMap((a) => a.idle)) {
    await deps.timers.schedule(i, i.delayMs).catch((err: unknown) => {
      deps.metrics.idleUnscheduled.inc();
      deps.logger.warn({ err, chatId: i.chatId }, 'could not schedule the idle check; the sweep will catch it');
    });
  }
}
