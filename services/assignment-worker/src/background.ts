import type { Logger } from '@switchboard/platform';

/**
 * Work a caller starts and does not wait for (next-chat answers before its idle check is
 * scheduled), tracked so that shutdown can wait for it. A failure is logged, never left
 * unhandled; the work counts its own expected failures.
 */
export interface Background {
  run(what: string, work: Promise<void>): void;
  /** Resolves once all work started so far has settled, and whatever was started meanwhile. */
  drain(): Promise<void>;
}

export function createBackground(logger: Pick<Logger, 'error'>): Background {
  const inFlight = new Set<Promise<void>>();
  return {
    run(what, work) {
      const tracked: Promise<void> = work
        .catch((err: unknown) => logger.error({ err, what }, 'background work failed'))
        .finally(() => inFlight.delete(tracked));
      inFlight.add(tracked);
    },
    async drain() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
