import { type CloudEvent, createEvent, inboundType } from '@switchboard/contracts';
import { createBatchHandler } from '@switchboard/sync-worker';
import { type Pipeline, startPipeline } from '@switchboard/test-pipeline';
import { DEV_MAILGUN_DOMAIN } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveriesOf } from '../fixtures/deliveries.ts';

/**
 * A batch's emails are applied in rounds, each step one statement for the round (sync-worker
 * `mailgun-email.ts`). These tests hold the batch to what applying its emails one by one gives:
 * threads, copies, leads and events.
 */
let p: Pipeline;
beforeAll(async () => {
  p = await startPipeline();
});
afterAll(async () => {
  await p.stop();
});

/**
 * The worker's batch handler over `events`; a batch that failed and was applied again one by one
 * fails the test (its outcomes alone would not tell: the one-by-one fallback gives the same rows).
 */
async function handle(events: CloudEvent[]) {
  const worker = p.worker;
  if (!worker) throw new Error('worker not running');
  const warnings: string[] = [];
  const logger = Object.assign(Object.create(worker.deps.logger), {
    warn: (_obj: object, msg: string) => warnings.push(msg),
  });
  const outcomes = await createBatchHandler({ ...worker.deps, logger })(deliveriesOf(events));
  expect(warnings).toEqual([]);
  return outcomes;
}

let clock = Date.parse('2026-11-02T09:00:00Z');
function email(from: string, messageId: string, text: string, over: { subject?: string; cites?: string[] } = {}) {
  clock += 60_000;
  const cites = over.cites ?? [];
  return createEvent({
    source: '/test',
    type: inboundType('mailgun.email.received'),
    data: {
      provider: 'mailgun',
      accountId: DEV_MAILGUN_DOMAIN,
      recipient: `sales@${DEV_MAILGUN_DOMAIN}`,
      from,
      subject: over.subject ?? (cites.length > 0 ? 'Re: Your offer' : 'Your offer'),
      messageId,
      inReplyTo: cites.slice(-1),
      references: cites,
      text,
      strippedText: text,
      attachments: [],
      sentAt: new Date(clock).toISOString(),
      format: 'fields',
    },
  });
}

/** Each stored email of `ids`: its conversation and the Message-ID of the message it answers. */
async function threads(ids: string[]) {
  const { rows } = await p.pool.query<{ header: string; conversation_id: string; parent: string | null }>(
    `select em.message_id_header as header, em.conversation_id, parent.message_id_header as parent
       from email_messages em left join email_messages parent on parent.message_id = em.parent_id
      where em.message_id_header = any($1)`,
    [ids],
  );
  return new Map(rows.map((r) => [r.header, r]));
}

/** A lead as its conversation's first email left it, without times: state, stage, counters, moves. */
async function leadOf(messageIdHeader: string) {
  const { rows } = await p.pool.query(
    `select l.state, l.stage, l.inbound_count, l.interest_signals, l.purchase_signals, l.engagement_score,
            l.qualification_score, (select jsonb_agg(m->>'milestone') from jsonb_array_elements(l.milestones) m) as milestones,
            l.version, (select jsonb_agg(jsonb_build_array(t.kind, t.event, t.from_value, t.to_value) order by t.id)
                          from lead_transitions t where t.conversation_id = l.conversation_id) as moves,
            (select jsonb_agg(o.routing_key order by o.id) from outbox o where o.aggregate_id = l.conversation_id::text) as events
       from lead_journeys l join email_messages em on em.conversation_id = l.conversation_id
      where em.message_id_header = $1`,
    [messageIdHeader],
  );
  return rows[0];
}

/** A customer's thread of three (a new email, a reply to it, an interested reply to that), Message-IDs prefixed. */
const thread = (from: string, prefix: string) => [
  email(from, `${prefix}-1@customer.test`, 'Hello, about the car.'),
  email(from, `${prefix}-2@customer.test`, 'Thanks for the answer.', { cites: [`${prefix}-1@customer.test`] }),
  email(from, `${prefix}-3@customer.test`, "I'm interested, what is the price?", {
    cites: [`${prefix}-1@customer.test`, `${prefix}-2@customer.test`],
  }),
];

describe('a batch of emails', () => {
  it('threads a reply under its parent of the same batch, and leaves the lead as one by one would', async () => {
    const batched = thread('one.batch@customer.test', 'batched');
    const outcomes = await handle(batched);
    expect(outcomes.map((o) => o.kind)).toEqual(['done', 'done', 'done']);
    for (const e of thread('one.by.one@customer.test', 'single')) {
      expect((await handle([e])).map((o) => o.kind)).toEqual(['done']);
    }

    const t = await threads(['batched-1@customer.test', 'batched-2@customer.test', 'batched-3@customer.test']);
    const first = t.get('batched-1@customer.test');
    expect(first?.parent).toBeNull();
    expect(t.get('batched-2@customer.test')).toMatchObject({
      conversation_id: first?.conversation_id,
      parent: 'batched-1@customer.test',
    });
    expect(t.get('batched-3@customer.test')).toMatchObject({
      conversation_id: first?.conversation_id,
      parent: 'batched-2@customer.test',
    });
    const single = await leadOf('single-1@customer.test');
    expect(single).toMatchObject({ inbound_count: 3, interest_signals: 1 });
    expect(single?.moves.length).toBeGreaterThan(0);
    // Same moves, counters, scores, milestones and events, in the same order; the version moves
    // once per write (each email's lead write is its own, in either case).
    expect(await leadOf('batched-1@customer.test')).toEqual(single);
  });

  it('stores a copy delivered in the same batch once, and each sender gets a thread of their own', async () => {
    const a = email('copy.sender@customer.test', 'copied@customer.test', 'First.');
    const copy = { ...a, id: crypto.randomUUID() };
    // A stranger citing that email starts a thread of their own, as one by one.
    const stranger = email('stranger@customer.test', 'stranger@customer.test', 'Me too.', {
      cites: ['copied@customer.test'],
    });
    const outcomes = await handle([a, copy, stranger]);
    expect(outcomes.map((o) => o.kind)).toEqual(['done', 'skipped', 'done']);
    const t = await threads(['copied@customer.test', 'stranger@customer.test']);
    expect(t.get('stranger@customer.test')?.parent).toBeNull();
    expect(t.get('stranger@customer.test')?.conversation_id).not.toBe(t.get('copied@customer.test')?.conversation_id);
    const { rows } = await p.pool.query(
      `select count(*)::int as n from messages where provider = 'mailgun' and provider_message_id = 'copied@customer.test'`,
    );
    expect(rows[0]?.n).toBe(1);
  });

  it("applies two customers' emails that join one conversation one after the other", async () => {
    // However a conversation came to hold two customers' messages, their replies land in it in
    // batch order: the second waits for a round of its own, so the lead counts each once, in turn.
    await handle([email('first.half@customer.test', 'half-1@customer.test', 'Hello.')]);
    const [conversation] = (await threads(['half-1@customer.test'])).values();
    await p.pool.query(
      `with c as (insert into customers (tenant_id, email) values ($1, 'second.half@customer.test') returning id),
            m as (insert into messages (tenant_id, conversation_id, direction, provider, provider_message_id, type, provider_sent_at)
                  values ($1, $2, 'inbound', 'mailgun', 'half-2@customer.test', 'email', now()) returning id)
       insert into email_messages (message_id, tenant_id, conversation_id, customer_id, message_id_header, in_reply_to,
                                   "references", subject, normalized_subject, direction, sent_at)
       select m.id, $1, $2, c.id, 'half-2@customer.test', '{}', '{}', 'Your offer', 'your offer', 'inbound', now() from m, c`,
      [p.tenant.tenantId, conversation?.conversation_id],
    );
    const outcomes = await handle([
      email('first.half@customer.test', 'half-3@customer.test', 'One.', { cites: ['half-1@customer.test'] }),
      email('second.half@customer.test', 'half-4@customer.test', "I'm interested.", {
        cites: ['half-2@customer.test'],
      }),
    ]);
    expect(outcomes.map((o) => o.kind)).toEqual(['done', 'done']);
    const t = await threads(['half-3@customer.test', 'half-4@customer.test']);
    expect(t.get('half-3@customer.test')?.conversation_id).toBe(conversation?.conversation_id);
    expect(t.get('half-4@customer.test')?.conversation_id).toBe(conversation?.conversation_id);
    expect(await leadOf('half-1@customer.test')).toMatchObject({ inbound_count: 4, interest_signals: 1 });
  });
});
