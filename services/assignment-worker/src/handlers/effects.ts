import type { DomainEventData, DomainEventKey } from '@switchboard/contracts';
import { domainOutboxEntry, type Executor, type OutboxEntry } from '@switchboard/db';
import type { Chat, ChatEffects } from '@switchboard/domain';
import { type Effects, unitOfWork } from '@switchboard/worker';
import { type Deps, type IdleCheck, SOURCE } from '../deps.ts';
import type { Count, Metrics } from '../metrics.ts';
import type { LockedChat } from '../store/chat-row.ts';

/** A domain event about a chat for the outbox (subject: the chat). */
export const chatEvent = <K extends DomainEventKey>(
  deps: Pick<Deps, 'names' | 'now'>,
  key: K,
  tenantId: string,
  chatId: string,
  data: DomainEventData<K>,
): OutboxEntry =>
  domainOutboxEntry({
    exchange: deps.names.events,
    source: SOURCE,
    key,
    tenantId,
    subject: chatId,
    time: deps.now(),
    data,
  });

/** One chat change: what it did, the events for the outbox, and what to do once it commits. */
export interface ChatChange {
  ok: boolean;
  reason?: string;
  chatId: string;
  tenantId: string;
  chat?: Chat;
  /** The row as this transaction wrote it, still row-locked by it: a later step in the transaction changes it from here. */
  row?: LockedChat;
  effects: ChatEffects;
  outbox: OutboxEntry[];
  /** Idle checks to schedule once the transaction committed. */
  idle: IdleCheck[];
  /** Metrics to record once the transaction committed. */
  counts: Count[];
}

export const nothing = (target: { id: string; tenantId: string }, over: Partial<ChatChange> = {}): ChatChange => ({
  ok: true,
  chatId: target.id,
  tenantId: target.tenantId,
  effects: {},
  outbox: [],
  idle: [],
  counts: [],
  ...over,
});

/**
 * What committed chat changes leave for the unit of work: their events for the outbox, their
 * counts, and their idle checks to schedule once committed. `background`: scheduling is not on
 * the caller's path (next-chat answers first); shutdown drains it. A crash before the checks are
 * scheduled loses nothing: the sweep finds the assignments.
 */
export function effectsOf(
  deps: Pick<Deps, 'timers' | 'metrics' | 'logger' | 'background'>,
  changes: ChatChange[],
  opts: { background?: boolean } = {},
): Effects<Metrics> {
  const schedule = () => scheduleIdle(deps, changes);
  return {
    outbox: changes.flatMap((c) => c.outbox),
    counts: changes.flatMap((c) => c.counts),
    afterCommit: [opts.background ? async () => deps.background.run('schedule idle check', schedule()) : schedule],
  };
}

async function scheduleIdle(deps: Pick<Deps, 'timers' | 'metrics' | 'logger'>, changes: ChatChange[]): Promise<void> {
  for (const i of changes.flatMap((c) => c.idle)) {
    await deps.timers.schedule(i, i.delayMs).catch((err: unknown) => {
      deps.metrics.idleUnscheduled.inc();
      deps.logger.warn({ err, chatId: i.chatId }, 'could not schedule the idle check; the sweep will catch it');
    });
  }
}

/**
 * `work` in one unit of work under `tenantId` whose chat changes (`applied`) leave through it:
 * outbox in the transaction, counts and idle checks once it committed.
 */
export function commitChatChanges<T extends { applied: ChatChange[] }>(
  deps: Deps,
  tenantId: string,
  work: (tx: Executor) => Promise<T>,
): Promise<T> {
  return unitOfWork(
    deps,
    async (unit) => {
      const r = await work(unit.tx);
      unit.record(effectsOf(deps, r.applied));
      return r;
    },
    { tenantId },
  );
}
