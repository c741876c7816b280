import type { Logger } from '@switchboard/platform';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { Deps, IdleTimers } from '../deps.ts';
import { handleStuck, pushWaiting, releaseIdle } from './sweeps.ts';

const QUEUE = 'assignment-timers';

interface IdleJob {
  tenantId: string;
  chatId: string;
  assignmentId: number;
}

/**
 * BullMQ timers, kept in Redis so a restarted worker loses none: one delayed job per assignment
 * (its idle check, due `idle_minutes` after it began), and a job scheduler that sweeps every
 * `sweepEveryMs` for idle assignments and stuck chats (which also catches an idle job lost
 * between a commit and its scheduling), and offers auto-assign tenants' waiting chats again. Each check decides on the database under the chat's row
 * lock, with `deps.now`, so the clock is the worker's, not BullMQ's.
 */
export async function startTimers(
  opts: { redisUrl: string; prefix: string; sweepEveryMs: number; logger: Logger },
  deps: () => Deps,
) {
  const connection = () => new Redis(opts.redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true });
  const queueConn = connection();
  const workerConn = connection();
  for (const c of [queueConn, workerConn]) c.on('error', (err) => opts.logger.warn({ err }, 'timer redis error'));
  const queue = new Queue<IdleJob | Record<string, never>>(QUEUE, { connection: queueConn, prefix: opts.prefix });
  // 0 turns the sweep off (a test that must see the delayed idle job alone do the release).
  if (opts.sweepEveryMs > 0)
    await queue.upsertJobScheduler('sweep', { every: opts.sweepEveryMs }, { name: 'sweep', data: {} });
  else await queue.removeJobScheduler('sweep');
  const worker = new Worker<IdleJob | Record<string, never>>(
    QUEUE,
    async (job) => {
      if (job.name === 'idle') {
        const d = job.data as IdleJob;
        await releaseIdle(deps(), { tenantId: d.tenantId, chatId: d.chatId, assignmentId: d.assignmentId });
      } else if (job.name === 'sweep') {
        // One run per period across replicas (the job scheduler's occurrence); counted to show it.
        const runs = deps().metrics.scheduledRuns;
        try {
          await releaseIdle(deps());
          await handleStuck(deps());
          await pushWaiting(deps());
        } catch (err) {
          runs.inc({ job: 'sweep', result: 'failed' });
          throw err;
        }
        runs.inc({ job: 'sweep', result: 'ok' });
      }
    },
    // A short blocking wait, so close() returns promptly instead of after a 5 s BZPOPMIN.
    { connection: workerConn, prefix: opts.prefix, concurrency: 4, drainDelay: 1 },
  );
  worker.on('failed', (job, err) => opts.logger.warn({ err, job: job?.name }, 'timer job failed; BullMQ retries it'));
  // Scheduling is not on the request's path (next-chat answers first); close() waits for it.
  const inFlight = new Set<Promise<unknown>>();
  const timers: IdleTimers = {
    schedule(check, delayMs) {
      const added = queue.add('idle', check, {
        delay: delayMs,
        jobId: `idle-${check.assignmentId}`,
        removeOnComplete: true,
        removeOnFail: 1000,
        attempts: 5,
        backoff: { type: 'exponential', delay: 1_000 },
      });
      inFlight.add(added);
      const untrack = () => inFlight.delete(added);
      added.then(untrack, untrack);
      return added.then(() => undefined);
    },
  };
  return {
    queue,
    worker,
    timers,
    async close() {
      await Promise.allSettled(inFlight);
      await worker.close();
      await queue.close();
      await Promise.all([queueConn, workerConn].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
