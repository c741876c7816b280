import type { StatusChange } from '@switchboard/domain';
import { describe, expect, it } from 'vitest';
import { historyContext } from './status-sync.ts';

const cause = { eventId: 'evt-1', changedBy: 'op-7', at: new Date('2026-01-01T00:00:00Z') };

describe('historyContext', () => {
  it('names who made a direct change, its reason and its cause', () => {
    const c: StatusChange = {
      entity: 'conversation',
      id: 'c1',
      from: 'open',
      to: 'closed',
      source: 'agent',
      reason: 'done',
      syncedFrom: null,
    };
    expect(historyContext(c, cause)).toEqual({
      source: 'agent',
      changedBy: 'op-7',
      reason: 'done',
      notes: null,
      causeEventId: 'evt-1',
    });
  });

  it('a synced change names nobody and says where it was synced from', () => {
    const c: StatusChange = {
      entity: 'ticket',
      id: 't1',
      from: 'open',
      to: 'closed',
      source: 'sync',
      reason: 'conversation closed',
      syncedFrom: 'conversation',
    };
    expect(historyContext(c, cause)).toEqual({
      source: 'sync',
      changedBy: null,
      reason: 'conversation closed',
      notes: 'synced from conversation',
      causeEventId: 'evt-1',
    });
  });
});
