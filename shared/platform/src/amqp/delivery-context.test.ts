import type { ConsumeMessage } from 'amqplib';
import { expect, it, vi } from 'vitest';
import { createLogger } from '../logger.ts';
import { deliveryContext } from './consumer.ts';
import { ATTEMPT_HEADER } from './republish.ts';

const delivery = (headers: Record<string, unknown>, redelivered = false) =>
  ({
    content: Buffer.from('{}'),
    fields: { redelivered },
    properties: { messageId: 'evt-1', type: 'switchboard.test.v1', headers },
  }) as unknown as ConsumeMessage;

it("makes a delivery's child logger only when it is first used, once, with the delivery's bindings", () => {
  const parent = createLogger('test', 'silent');
  const child = vi.spyOn(parent, 'child');
  const ctx = deliveryContext(parent, delivery({ [ATTEMPT_HEADER]: 3 }, true));
  expect(ctx.attempt).toBe(3);
  expect(child).not.toHaveBeenCalled();
  const logger = ctx.logger;
  expect(ctx.logger).toBe(logger);
  expect(child).toHaveBeenCalledTimes(1);
  expect(logger.bindings()).toMatchObject({
    eventId: 'evt-1',
    type: 'switchboard.test.v1',
    attempt: 3,
    redelivered: true,
  });
});

it('counts a delivery without the attempt header as its first attempt', () => {
  expect(deliveryContext(createLogger('test', 'silent'), delivery({})).attempt).toBe(1);
});
