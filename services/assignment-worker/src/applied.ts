import type { DomainEventData, DomainEventKey } from '@switchboard/contracts';
import { domainOutboxEntry, type OutboxEntry } from '@switchboard/db';
import type { Chat, ChatEffects } from '@switchboard/domain';
import type { LockedChat } from './chat-row.ts';
import { type Deps, type IdleCheck, SOURCE } from './deps.ts';
import type { Count } from './metrics.ts';

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
export interface Applied {
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

export const nothing = (target: { id: string; tenantId: string }, over: Partial<Applied> = {}): Applied => ({
  ok: true,
  chatId: target.id,
  tenantId: target.tenantId,
  effects: {},
  outbox: [],
  idle: [],
  counts: [],
  ...over,
});
