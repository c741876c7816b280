import type { Counter, Logger } from '@switchboard/platform';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

/** A sweep that runs once per period across all replicas; `everyMs` 0 turns it off. */
export interface ScheduledJob {
  name: string;
  everyMs: number;
  run: () => Promise<unknown>;
}

export interface ScheduleOptions {
  redisUrl: string;
  /** BullMQ's key prefix (the deployment's Redis prefix plus `bull`). */
  prefix: string;
  queue: string;
  logger: Logger;
  /** Runs that finished, by job and result (`ok`, `failed`). */
  runs: Counter<'job' | 'result'>;
}

/**
 * Scheduled work on BullMQ job schedulers, so a sweep runs once per period whatever the number of
 * replicas: the schedule lives in Redis under the job's name, every replica upserts the same one
 * at start (idempotent), and each period's occurrence is one job with a deterministic id that one
 * worker takes. A replica that dies mid-run loses its lock and BullMQ hands the job to another
 * (a sweep is safe to run again: each one re-checks its rows under a row lock). A run that fails is
 * not retried: the next period runs it again. A run longer than the period may overlap the next on
 * another replica, which the sweeps tolerate (`skip locked`, re-checks under the row lock).
 */
export async function startScheduledJobs(opts: ScheduleOptions, jobs: ScheduledJob[]) {
  const connection = () => new Redis(opts.redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true });
  const queueConn = connection();
  const workerConn = connection();
  for (const c of [queueConn, workerConn]) c.on('error', (err) => opts.logger.warn({ err }, 'scheduler redis error'));
  const queue = new Queue(opts.queue, { connection: queueConn, prefix: opts.prefix });
  for (const job of jobs) {
    if (job.everyMs > 0)
      await queue.upsertJobScheduler(
        job.name,
        { every: job.everyMs },
        { name: job.name, data: {}, opts: { attempts: 1, removeOnComplete: 100, removeOnFail: 100 } },
      );
    else await queue.removeJobScheduler(job.name);
  }
  const byName = new Map(jobs.map((j) => [j.name, j]));
  const worker = new Worker(
    opts.queue,
    async (job) => {
      const scheduled = byName.get(job.name);
      // A job of a name this build does not know (an older or newer replica's): left to it.
      if (!scheduled || scheduled.everyMs <= 0) return;
      try {
        await scheduled.run();
        opts.runs.inc({ job: scheduled.name, result: 'ok' });
      } catch (err) {
        opts.runs.inc({ job: scheduled.name, result: 'failed' });
        throw err;
      }
    },
    // One sweep at a time per replica; a short blocking wait so close() returns promptly.
    { connection: workerConn, prefix: opts.prefix, concurrency: 1, drainDelay: 1 },
  );
  worker.on('failed', (job, err) => opts.logger.warn({ err, job: job?.name }, 'scheduled job failed'));
  return {
    queue,
    worker,
    /** Waits for the run in hand, then closes the connections. The schedules stay in Redis. */
    async close() {
      await worker.close();
      await queue.close();
      await Promise.all([queueConn, workerConn].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
