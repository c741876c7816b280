import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@switchboard/platform';
import pg from 'pg';

export interface ListenHandlers {
  onNotify: (payload: string) => void;
  /** Listening (again): notifications sent while nobody listened are lost, so drop what they guard. */
  onListening: () => void;
  /** The connection is gone: until `onListening`, changes go unannounced. */
  onDown: () => void;
}

/**
 * Keeps a LISTEN on `channel` on a connection of its own (made with the pool's settings, so it
 * takes no pooled connection from the work) and reconnects every `retryMs` after losing it. NOTIFY is delivered on commit only, so a listener hears exactly the committed changes
 * while it listens; the handlers say when it starts and stops hearing them.
 */
export function listen(
  pool: pg.Pool,
  channel: string,
  handlers: ListenHandlers,
  opts: { logger: Logger; retryMs?: number },
): { stop: () => Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const idle = new AbortController();
  const session = async () => {
    const client = new pg.Client(pool.options);
    client.on('error', () => undefined); // reported through `lost` below
    let broken = false;
    try {
      await client.connect();
      const lost = new Promise<void>((resolve) => {
        wake = resolve;
        client.on('error', () => resolve());
        client.on('end', () => resolve());
        if (stopped) resolve();
      });
      client.on('notification', (n) => {
        if (n.channel === channel) handlers.onNotify(n.payload ?? '');
      });
      await client.query(`listen ${channel}`);
      handlers.onListening();
      await lost;
      broken = !stopped;
    } finally {
      handlers.onDown();
      await client.end().catch(() => undefined);
      if (broken) opts.logger.warn({ channel }, 'listen connection lost, reconnecting');
    }
  };
  const loop = (async () => {
    while (!stopped) {
      await session().catch((err: unknown) => opts.logger.warn({ err, channel }, 'could not listen, will retry'));
      if (!stopped) await sleep(opts.retryMs ?? 1_000, undefined, { signal: idle.signal }).catch(() => undefined);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      wake?.();
      idle.abort();
      await loop;
    },
  };
}
