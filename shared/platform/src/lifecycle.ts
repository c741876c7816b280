import type { Logger } from './logger.ts';

type Step = { name: string; stop: () => Promise<void> };

/**
 * Owns a process's shutdown. `main.ts` registers a stop step as it starts each part; on SIGTERM
 * or SIGINT the steps run in reverse order (stop intake, drain work, close channels and
 * connections, then the pool), and a deadline exits the process if a step hangs.
 */
export class Lifecycle {
  readonly #steps: Step[] = [];
  #stopping: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly deadlineMs: number,
  ) {}

  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  onStop(name: string, stop: () => Promise<void>): void {
    this.#steps.push({ name, stop });
  }

  /** Runs every step, newest first, each once; a failing step is logged and the rest still run. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const step of [...this.#steps].reverse()) {
        try {
          await step.stop();
          this.logger.debug({ step: step.name }, 'stopped');
        } catch (err) {
          this.logger.error({ err, step: step.name }, 'stop step failed');
        }
      }
    })();
    return this.#stopping;
  }

  /** Installs the signal handlers; the process exits once every step has run or the deadline hits. */
  handleSignals(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.stopping) return;
      this.logger.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        this.logger.error({ deadlineMs: this.deadlineMs }, 'shutdown deadline passed, exiting');
        process.exit(1);
      }, this.deadlineMs);
      deadline.unref();
      void this.stop().then(() => {
        this.logger.info('stopped');
        process.exit(0);
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }
}
