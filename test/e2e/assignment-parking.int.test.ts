import type { AssignmentWorker } from '@switchboard/assignment-worker';
import { disableChannel, enableChannel } from '@switchboard/db';
import type { Pipeline } from '@switchboard/test-pipeline';
import { queueDepth } from '@switchboard/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AssignmentKit, startAssignment } from '../fixtures/assignment.ts';

/**
 * One channel resolution for both workers: the assignment-worker resolves an agent-desk account
 * through the same cached, NOTIFY-invalidated resolver as the sync-worker, and parks presence from
 * an account no active channel claims (none, or a disabled one), as the sync-worker parks its
 * events: nothing applied, nothing dead-lettered, counted by provider and reason.
 */
let p: Pipeline;
let k: AssignmentKit;
let worker: AssignmentWorker;
beforeAll(async () => {
  ({ p, k, w: worker } = await startAssignment());
});
afterAll(() => k.stop());

const parked = async (reason: string) =>
  (await worker.metrics.parked.get()).values.find(
    (v) => v.labels.provider === 'agent_desk' && v.labels.reason === reason,
  )?.value ?? 0;
const operatorRows = async (id: string) =>
  (await p.pool.query('select 1 from operators where id = $1', [id])).rowCount ?? 0;

describe('presence from an account no active channel claims', () => {
  it('is parked in assignment-worker.events.parked when no channel claims the account', async () => {
    const queue = worker.topology.consumers.assignmentEvents;
    expect(queue.parkedQueue).toBe(`${queue.name}.parked`);
    await k.presence('desk-nobody-claims', { operatorId: 'op-ghost', status: 'online', at: new Date() });
    await expect.poll(() => parked('unknown_channel'), { timeout: 15_000, interval: 100 }).toBe(1);
    await expect.poll(() => queueDepth(queue.parkedQueue as string), { timeout: 15_000, interval: 100 }).toBe(1);
    expect(await queueDepth(queue.deadQueue)).toBe(0);
    expect(await operatorRows('op-ghost')).toBe(0);
  });

  it('is parked while the channel is disabled, and applied once it is enabled again', async () => {
    const t = await k.tenant('parking');
    const channel = await p.pool.query<{ id: string }>(
      `select id from channels where provider = 'agent_desk' and account_id = $1`,
      [t.desk],
    );
    const channelId = channel.rows[0]?.id as string;
    await disableChannel(p.db, channelId);
    await k.presence(t.desk, { operatorId: 'op-disabled', status: 'online', at: new Date() });
    await expect.poll(() => parked('channel_disabled'), { timeout: 15_000, interval: 100 }).toBe(1);
    expect(await operatorRows('op-disabled')).toBe(0);

    await enableChannel(p.db, channelId);
    // The channels NOTIFY drops the cached answer at commit: the very next report finds the channel.
    await k.processed(await k.presence(t.desk, { operatorId: 'op-disabled', status: 'online', at: new Date() }));
    expect(await operatorRows('op-disabled')).toBe(1);
  });
});
