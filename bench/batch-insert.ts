import type amqp from 'amqplib';
import type pg from 'pg';

const BATCH_ROWS = 100;
const BATCH_MS = 5;

/**
 * Gathers deliveries into multi-row INSERTs. Batches run concurrently on the pool but are acked
 * in delivery order: each commit acks (multiple) up to the last batch that committed with all
 * batches before it, so an ack never covers an uncommitted message.
 */
export function insertInBatches(
  pool: pg.Pool,
  ch: amqp.Channel,
  onCommit: (batch: amqp.ConsumeMessage[], at: number) => void,
) {
  let open: amqp.ConsumeMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  const order: Array<{ last: amqp.ConsumeMessage; committed: boolean }> = [];
  let fail: (err: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => undefined);

  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = open;
    open = [];
    const last = batch.at(-1);
    if (!last) return;
    const slot = { last, committed: false };
    order.push(slot);
    const messageIds = batch.map((m) => String(m.properties.messageId));
    const bodies = batch.map((m) => m.content.toString('utf8'));
    pool
      .query('insert into bench_baseline (message_id, body) select * from unnest($1::uuid[], $2::jsonb[])', [
        messageIds,
        bodies,
      ])
      .then(() => {
        slot.committed = true;
        let ackUpTo: amqp.ConsumeMessage | undefined;
        while (order[0]?.committed) ackUpTo = order.shift()?.last;
        if (ackUpTo) ch.ack(ackUpTo, true);
        onCommit(batch, performance.now());
      }, fail);
  };

  return {
    failed,
    add: (msg: amqp.ConsumeMessage) => {
      open.push(msg);
      if (open.length >= BATCH_ROWS) flush();
      else timer ??= setTimeout(flush, BATCH_MS);
    },
  };
}
