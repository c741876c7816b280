import { randomUUID } from 'node:crypto';
import type { Pipeline } from '@switchboard/test-pipeline';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';
import type { Outgoing } from '../fixtures/assignment-events.ts';

let p: Pipeline;
let k: AssignmentKit;
beforeAll(async () => {
  ({ p, k } = await startAssignment());
});
afterAll(() => k.stop());

describe('next-chat under load', () => {
  it('200 operators, three calls at once each, over 1,000 waiting chats: no chat twice, no operator over capacity, never the chat it just answered', async () => {
    const t = await k.tenant('load');
    await p.pool.query(
      `insert into operators (tenant_id, id, status, capacity)
       select $1, 'cop-' || i, 'online', 1 + (i * 7) % 8 from generate_series(1, 200) i`,
      [t.tenantId],
    );
    // 1,000 waiting chats; every tenth was last answered by an operator and came back without the
    // customer writing since, so that operator must not get it.
    await p.pool.query(
      `insert into chats (id, tenant_id, state, waiting_since, last_customer_message_at, last_operator_id, operator_replied_at)
       select gen_random_uuid(), $1, 'waiting_assignment', now() - (1000 - i) * interval '1 second', now() - interval '2 hours',
              case when i % 10 = 0 then 'cop-' || (1 + i % 200) end,
              case when i % 10 = 0 then now() - interval '1 hour' end
         from generate_series(1, 1000) i`,
      [t.tenantId],
    );
    const capacity = await p.pool.query<{ total: number }>(
      'select sum(capacity)::int as total from operators where tenant_id = $1',
      [t.tenantId],
    );
    // Each operator asks from three places at once (sent one after the other), so its calls race
    // for its last place.
    const results = await Promise.all(
      Array.from({ length: 200 * 3 }, async (_, n) => {
        const id = `cop-${Math.floor(n / 3) + 1}`;
        const got: string[] = [];
        for (;;) {
          const res = await p.assignmentApi(`/operators/${id}/next-chat`, { method: 'POST', token: t.token });
          if (res.status !== 200) {
            expect(res.status).toBe(204);
            expect(['at_capacity', 'none_waiting']).toContain(res.headers.get('x-switchboard-reason'));
            break;
          }
          got.push(((await res.json()) as { chatId: string }).chatId);
        }
        return { id, got };
      }),
    );
    const all = results.flatMap((r) => r.got);
    expect(new Set(all).size).toBe(all.length);
    expect(all.length).toBe(Math.min(1000, capacity.rows[0]?.total ?? 0));
    const over = await p.pool.query(
      `select o.id from operators o
        where o.tenant_id = $1
          and (select count(*) from chats c where c.assignee_id = o.id and c.state = 'assigned' and c.tenant_id = $1) > o.capacity`,
      [t.tenantId],
    );
    expect(over.rows).toEqual([]);
    const barred = await p.pool.query(
      `select id from chats where tenant_id = $1 and state = 'assigned' and assignee_id = last_operator_id`,
      [t.tenantId],
    );
    expect(barred.rows).toEqual([]);
    const twice = await p.pool.query(
      'select chat_id from chat_assignments where tenant_id = $1 group by chat_id having count(*) > 1',
      [t.tenantId],
    );
    expect(twice.rows).toEqual([]);
    const load = await p.pool.query(
      `select o.id from operators o
        where o.tenant_id = $1
          and o.active_chats <> (select count(*) from chats c where c.tenant_id = $1 and c.assignee_id = o.id and c.state = 'assigned')`,
      [t.tenantId],
    );
    expect(load.rows).toEqual([]);
  });
});

describe('redelivery', () => {
  it('redelivered customer messages, operator replies, presence reports and closes change nothing and announce nothing', async () => {
    const t = await k.tenant('redelivery');
    const now = Date.now();
    const at = (s: number) => new Date(now + s * 1000);
    const chatId = randomUUID();
    const other = randomUUID();
    const sent: Outgoing[] = [];
    const apply = async (o: Outgoing) => {
      await k.processed(await k.send(o));
      sent.push(o);
    };
    const e = k.events;
    await apply(e.presence(t.desk, { operatorId: 'A', status: 'online', at: at(0) }));
    await apply(e.customerMessage(t.tenantId, chatId, at(1)));
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    await apply(e.reply(t.tenantId, chatId, 'A', at(2)));
    await apply(e.customerMessage(t.tenantId, chatId, at(3)));
    expect(await k.next('A', t.token)).toMatchObject({ chatId });
    await apply(e.presence(t.desk, { operatorId: 'A', status: 'offline', at: at(4) }));
    await apply(e.customerMessage(t.tenantId, other, at(5)));
    await apply(e.closeConversation(t.tenantId, other, at(6)));
    await apply(e.presence(t.desk, { operatorId: 'A', status: 'online', at: at(7) }));
    expect(await k.next('A', t.token)).toMatchObject({ chatId });

    const snapshot = async () => ({
      chats: (await p.pool.query('select * from chats where tenant_id = $1 order by id', [t.tenantId])).rows,
      operators: (await p.pool.query('select * from operators where tenant_id = $1', [t.tenantId])).rows,
      assignments: (await p.pool.query('select * from chat_assignments where tenant_id = $1 order by id', [t.tenantId]))
        .rows,
      outbox: (await p.pool.query('select event_id from outbox where tenant_id = $1 order by id', [t.tenantId])).rows,
    });
    const before = await snapshot();
    expect(before.outbox.length).toBeGreaterThan(0);
    const skipped = () => k.metric('events_consumed_total', { outcome: 'skipped' });
    const skippedBefore = await skipped();
    // Every event again, twice, as the broker would redeliver it (same CloudEvents id).
    for (let i = 0; i < 2; i++) for (const o of sent) await k.send(o);
    // Proof that every copy was handled (as a duplicate), not a pause.
    await vi.waitFor(async () => expect(await skipped()).toBe(skippedBefore + 2 * sent.length), {
      timeout: 15_000,
      interval: 50,
    });
    expect(await snapshot()).toEqual(before);
  });
});
