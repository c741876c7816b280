import type { Message } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from './publisher.ts';
import { ATTEMPT_HEADER, REASON_HEADER, republish } from './republish.ts';

const delivered = {
  content: Buffer.from('{"id":"e1"}'),
  properties: {
    messageId: 'e1',
    type: 'switchboard.inbound.x.v1',
    contentType: 'application/cloudevents+json',
    timestamp: 1700000000,
    headers: { cloudEvents_id: 'e1', [ATTEMPT_HEADER]: 2, [REASON_HEADER]: 'earlier', 'x-death': [{ count: 1 }] },
  },
} as unknown as Message;

async function copy(mark?: { attempt: number; reason: string }): Promise<OutgoingMessage> {
  const sent: OutgoingMessage[] = [];
  await republish(async (m) => void sent.push(m), delivered, { exchange: 'dlx', routingKey: 'q' }, mark);
  expect(sent).toHaveLength(1);
  return sent[0] as OutgoingMessage;
}

describe('republish', () => {
  it('copies the body, id, type and headers unchanged, persistent and mandatory, with its new marks', async () => {
    const m = await copy({ attempt: 3, reason: `invalid_payload: ${'x'.repeat(2000)}` });
    expect(m).toMatchObject({ exchange: 'dlx', routingKey: 'q', mandatory: true, content: delivered.content });
    expect(m.properties).toMatchObject({
      messageId: 'e1',
      type: 'switchboard.inbound.x.v1',
      contentType: 'application/cloudevents+json',
      timestamp: 1700000000,
      persistent: true,
    });
    expect(m.properties.headers).toMatchObject({
      cloudEvents_id: 'e1',
      [ATTEMPT_HEADER]: 3,
      'x-death': [{ count: 1 }],
    });
    expect(m.properties.headers?.[REASON_HEADER]).toHaveLength(1000);
  });

  it('without marks (a replay), drops the attempt, the reason and the broker history', async () => {
    const m = await copy();
    expect(m.properties.headers).toEqual({ cloudEvents_id: 'e1' });
  });

  it('fails when the send is not confirmed, so the caller does not ack the original', async () => {
    await expect(
      republish(() => Promise.reject(new Error('nacked')), delivered, { exchange: '', routingKey: 'q' }),
    ).rejects.toThrow('nacked');
  });
});
