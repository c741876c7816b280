import pg from 'pg';
import { startPipeline } from '@switchboard/testing';

const origQuery = pg.Client.prototype.query as any;
const stats = new Map<string, number[]>();
let tracing = false;
(pg.Client.prototype as any).query = function (this: any, config: any, values: any, cb: any) {
  if (!tracing || typeof config === 'function') return origQuery.call(this, config, values, cb);
  const text = (typeof config === 'string' ? config : config?.text ?? '').replace(/\s+/g, ' ').slice(0, 60);
  const t = performance.now();
  const r = origQuery.call(this, config, values, cb);
  if (r && typeof r.then === 'function')
    r.then(() => { const a = stats.get(text) ?? []; a.push(performance.now() - t); stats.set(text, a); }, () => {});
  return r;
};

const p = await startPipeline({ assignment: true });
const { pool } = await import('@switchboard/db').then((m) => m.createDb(p.env.DATABASE_URL, { max: 2 }));
const tenant = (await pool.query('select tenant_id from api_tokens limit 1')).rows[0].tenant_id;
await pool.query(`insert into operators (tenant_id, id, status, capacity) values ($1, 'op-1', 'online', 100000)`, [tenant]);
await pool.query(`insert into chats (id, tenant_id, state, waiting_since, last_customer_message_at)
  select gen_random_uuid(), $1, 'waiting_assignment', now() - ((2000 - i) * interval '1 second'), now() from generate_series(1, 2000) i`, [tenant]);
const call = async () => {
  const t = performance.now();
  const r = await fetch(new URL('/operators/op-1/next-chat', p.assignmentUrl), { method: 'POST', headers: { authorization: `Bearer ${p.apiToken}` } });
  await r.text();
  return performance.now() - t;
};
for (let i = 0; i < 300; i++) await call();
tracing = true;
const lat: number[] = [];
for (let i = 0; i < 500; i++) lat.push(await call());
tracing = false;
lat.sort((a, b) => a - b);
console.log('sequential next-chat: p50', lat[250].toFixed(2), 'p90', lat[450].toFixed(2), 'p99', lat[495].toFixed(2));
for (const [k, a] of stats) { a.sort((x, y) => x - y); console.log(String(a.length).padStart(5), 'p50', a[a.length >> 1].toFixed(3), k); }
await pool.end();
await p.stop();
