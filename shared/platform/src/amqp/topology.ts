/**
 * The RabbitMQ topology, as data. Every service declares all of it on every (re)connect, so a
 * publisher never finds its consumer's queue missing and `mandatory` publishes always route.
 * `namespace` prefixes every name: empty in production, unique per test for isolation.
 */

export interface ExchangeSpec {
  name: string;
  type: 'topic' | 'direct' | 'fanout';
}

export interface QueueSpec {
  name: string;
  arguments: Record<string, unknown>;
  bindings: Array<{ exchange: string; pattern: string }>;
}

/** A queue some service consumes, with its retry ladder and parking queue. */
export interface ConsumedQueue {
  name: string;
  /** Delay before attempt n+1; the last delay repeats. Attempts beyond `maxAttempts` are parked. */
  retryDelaysMs: number[];
  maxAttempts: number;
  retryQueue: (attempt: number) => string;
  deadQueue: string;
  /**
   * Where the consumer sets aside, unchanged, messages it cannot apply until a person acts (the
   * sync-worker: events of an account no active channel claims yet); replayed like dead letters.
   */
  parkedQueue?: string;
}

export interface Topology {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
  names: {
    inbound: string;
    events: string;
    dlx: string;
    parked: string;
  };
  consumers: {
    syncInbound: ConsumedQueue;
    assignmentEvents: ConsumedQueue;
    realtimeEvents: ConsumedQueue;
  };
}

/**
 * The broker's own redelivery bound (quorum `x-delivery-limit`): it catches a message that kills
 * its consumer before the consumer can count the attempt (a crash loop), and dead-letters it.
 */
const DELIVERY_LIMIT = 20;

const quorum = (extra: Record<string, unknown> = {}) => ({
  'x-queue-type': 'quorum',
  ...extra,
});

function consumed(
  ns: string,
  purpose: string,
  exchanges: { dlx: string },
  bindings: QueueSpec['bindings'],
  retryDelaysMs: number[],
  maxAttempts: number,
  parking = false,
): { spec: ConsumedQueue; queues: QueueSpec[] } {
  const name = `${ns}${purpose}`;
  const retryQueue = (attempt: number) => {
    const delay = retryDelaysMs[Math.min(attempt, retryDelaysMs.length) - 1] ?? retryDelaysMs.at(-1) ?? 1000;
    return `${name}.retry-${delay}ms`;
  };
  const deadLetter = {
    'x-dead-letter-exchange': exchanges.dlx,
    'x-dead-letter-routing-key': name,
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
  };
  const queues: QueueSpec[] = [
    { name, arguments: quorum({ 'x-delivery-limit': DELIVERY_LIMIT, ...deadLetter }), bindings },
    ...[...new Set(retryDelaysMs)].map((delay) => ({
      // Expired messages dead-letter through the default exchange straight back to the main queue.
      name: `${name}.retry-${delay}ms`,
      arguments: quorum({
        'x-message-ttl': delay,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': name,
        'x-dead-letter-strategy': 'at-least-once',
        'x-overflow': 'reject-publish',
      }),
      bindings: [],
    })),
    { name: `${name}.dead`, arguments: quorum(), bindings: [{ exchange: exchanges.dlx, pattern: name }] },
    // Published to by name (default exchange), so it needs no binding.
    ...(parking ? [{ name: `${name}.parked`, arguments: quorum(), bindings: [] }] : []),
  ];
  const spec = { name, retryDelaysMs, maxAttempts, retryQueue, deadQueue: `${name}.dead` };
  return { spec: parking ? { ...spec, parkedQueue: `${name}.parked` } : spec, queues };
}

export interface TopologyOptions {
  /** Delays of the retry ladder; short ones let tests watch a message go round. */
  retryDelaysMs?: number[];
  maxAttempts?: number;
}

export function switchboardTopology(ns = '', opts: TopologyOptions = {}): Topology {
  const names = {
    inbound: `${ns}switchboard.inbound`,
    events: `${ns}switchboard.events`,
    dlx: `${ns}switchboard.dlx`,
    parked: `${ns}switchboard.parked`,
  };
  const syncInbound = consumed(
    ns,
    'sync-worker.inbound',
    names,
    [
      { exchange: names.inbound, pattern: 'whatsapp.#' },
      { exchange: names.inbound, pattern: 'mailgun.#' },
      { exchange: names.inbound, pattern: 'helpdesk.#' },
      { exchange: names.inbound, pattern: 'agentdesk.conversation.#' },
      { exchange: names.inbound, pattern: 'agentdesk.operator.replied' },
      { exchange: names.inbound, pattern: 'genesys.#' },
      // The chat queue's assignments move the conversation (assign → active, release → open).
      { exchange: names.events, pattern: 'chat.assigned' },
      { exchange: names.events, pattern: 'chat.released' },
      { exchange: names.events, pattern: 'chat.completed' },
    ],
    opts.retryDelaysMs ?? [1_000, 5_000, 30_000],
    opts.maxAttempts ?? 5,
    true,
  );
  // The assignment-worker follows the conversation store's events and the operators' presence.
  const assignmentEvents = consumed(
    ns,
    'assignment-worker.events',
    names,
    [
      { exchange: names.events, pattern: 'message.received' },
      { exchange: names.events, pattern: 'message.sent' },
      { exchange: names.events, pattern: 'conversation.status.changed' },
      { exchange: names.inbound, pattern: 'agentdesk.operator.status.changed' },
    ],
    opts.retryDelaysMs ?? [1_000, 5_000, 30_000],
    opts.maxAttempts ?? 5,
    // Presence from an account no active channel claims is parked, as in the sync-worker.
    true,
  );
  // The realtime gateway: one queue shared by its replicas (each event appended to the replay log
  // once); the replicas fan out from that log, so every replica sees every event.
  const realtimeEvents = consumed(
    ns,
    'realtime.events',
    names,
    [
      'conversation.#',
      'message.received',
      'message.sent',
      'message.status.changed',
      'ticket.#',
      'lead.#',
      'chat.#',
      // Not pushed: the gateway drops the erased customer's events from its replay log.
      'customer.erased',
    ].map((pattern) => ({ exchange: names.events, pattern })),
    opts.retryDelaysMs ?? [1_000, 5_000, 30_000],
    opts.maxAttempts ?? 5,
  );
  // Bounded, oldest dropped, with no dead-lettering of what it drops: with every gateway stopped
  // it must neither grow without limit nor refuse the relay's publishes (reject-publish would
  // stall the outbox for every consumer). What it drops is only a push to screens; Postgres and
  // the read API still have it.
  const [realtimeMain, ...realtimeRest] = realtimeEvents.queues;
  if (realtimeMain) {
    realtimeMain.arguments = quorum({
      'x-delivery-limit': DELIVERY_LIMIT,
      'x-max-length': 100_000,
      'x-overflow': 'drop-head',
      'x-message-ttl': 3_600_000,
    });
  }
  return {
    names,
    exchanges: [
      { name: names.inbound, type: 'topic' },
      { name: names.events, type: 'topic' },
      { name: names.dlx, type: 'topic' },
    ],
    queues: [
      ...syncInbound.queues,
      ...assignmentEvents.queues,
      ...(realtimeMain ? [realtimeMain] : []),
      ...realtimeRest,
      // What an edge could verify but not understand: kept for people, consumed by no service.
      { name: names.parked, arguments: quorum(), bindings: [{ exchange: names.inbound, pattern: 'parked.#' }] },
    ],
    consumers: {
      syncInbound: syncInbound.spec,
      assignmentEvents: assignmentEvents.spec,
      realtimeEvents: realtimeEvents.spec,
    },
  };
}

/** AMQP topic matching, as the broker does it: `*` is exactly one word, `#` is zero or more. */
export function topicMatches(pattern: string, key: string): boolean {
  const p = pattern.split('.');
  const k = key.split('.');
  const go = (i: number, j: number): boolean => {
    if (i === p.length) return j === k.length;
    if (p[i] === '#') return go(i + 1, j) || (j < k.length && go(i, j + 1));
    return j < k.length && (p[i] === '*' || p[i] === k[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}
