import { describe, expect, it } from 'vitest';
import { emptyQueue, foldQueue, newerStatus } from '../public/state.js';

const chat = 'c0ffee00-0000-4000-8000-000000000001';
const ev = (key: string, data: Record<string, unknown>) => ({ cloudEventType: `switchboard.${key}.v1`, data });

describe("the console's queue fold", () => {
  it('follows a chat from the queue to me, waiting on the customer, back to the queue, and completed', () => {
    const q = emptyQueue();
    foldQueue(q, ev('message.received', { conversationId: chat, from: '1555', text: 'hi' }), 'op-ana');
    expect([...q.waiting.keys()]).toEqual([chat]);
    foldQueue(q, ev('chat.assigned', { chatId: chat, operatorId: 'op-ana' }), 'op-ana');
    expect([q.waiting.size, q.mine.size]).toEqual([0, 1]);
    foldQueue(q, ev('message.received', { conversationId: chat, text: 'still there?' }), 'op-ana');
    expect(q.mine.get(chat)?.text).toBe('still there?');
    foldQueue(q, ev('chat.released', { chatId: chat, operatorId: 'op-ana', reason: 'replied' }), 'op-ana');
    expect(q.mine.get(chat)?.waitingOnCustomer).toBe(true);
    foldQueue(q, ev('message.received', { conversationId: chat, text: 'thanks, one more thing' }), 'op-ana');
    expect([q.waiting.size, q.mine.size]).toEqual([1, 0]);
    foldQueue(q, ev('chat.completed', { chatId: chat, reason: 'closed' }), 'op-ana');
    expect([q.waiting.size, q.mine.size]).toEqual([0, 0]);
  });

  it("takes another operator's assignment out of the queue without making it mine", () => {
    const q = emptyQueue();
    foldQueue(q, ev('message.received', { conversationId: chat, text: 'hi' }), 'op-ana');
    foldQueue(q, ev('chat.assigned', { chatId: chat, operatorId: 'op-bo' }), 'op-ana');
    expect([q.waiting.size, q.mine.size]).toEqual([0, 0]);
    foldQueue(q, ev('chat.released', { chatId: chat, operatorId: 'op-bo', reason: 'released' }), 'op-ana');
    expect(q.waiting.has(chat)).toBe(true);
  });
});

it('a delivery tick only moves forward', () => {
  expect(newerStatus('read', 'delivered')).toBe('read');
  expect(newerStatus('sent', 'read')).toBe('read');
  expect(newerStatus(undefined, 'sent')).toBe('sent');
});
