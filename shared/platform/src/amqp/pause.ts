import { setTimeout as sleep } from 'node:timers/promises';

export interface PauseOptions {
  /** Whether a handler's error means a dependency is unreachable, not that the message failed. */
  isOutage: (err: unknown) => boolean;
  /** Resolves when every dependency the handler needs answers again; throws while one does not. */
  probe: () => Promise<void>;
  /** The longest wait between two probes (they start at a quarter second and double). */
  maxProbeIntervalMs?: number;
}

/** Resolves once `probe` succeeds, or `stopped()` turns true; probes with a doubling interval. */
export async function untilBack(pause: PauseOptions, stopped: () => boolean): Promise<void> {
  let wait = 250;
  while (!stopped()) {
    try {
      await pause.probe();
      return;
    } catch {
      // Still down: wait and probe again.
    }
    await sleep(wait);
    wait = Math.min(wait * 2, pause.maxProbeIntervalMs ?? 5_000);
  }
}
