// The console's view of the queue, folded from events: a customer message puts its chat in the
// queue; an assignment takes it out (into "my chats" when it is mine); a release puts it back
// unless the operator replied; a completion ends it. Pure: no DOM, no network.

export function emptyQueue() {
  return { waiting: new Map(), mine: new Map() };
}

export function foldQueue(q, f, me) {
  const d = f.data ?? {};
  switch (f.cloudEventType) {
    case 'switchboard.message.received.v1': {
      const id = d.conversationId;
      const chat = { ...q.mine.get(id), id, from: d.from, text: d.text ?? `(${d.type})`, at: d.receivedAt };
      // Still assigned to me: it stays mine. Waiting on the customer: the customer's answer queues it.
      if (q.mine.has(id) && !q.mine.get(id).waitingOnCustomer) q.mine.set(id, chat);
      else {
        q.mine.delete(id);
        q.waiting.set(id, { ...chat, waitingOnCustomer: false });
      }
      return;
    }
    case 'switchboard.chat.assigned.v1': {
      const chat = q.waiting.get(d.chatId) ?? q.mine.get(d.chatId) ?? { id: d.chatId };
      q.waiting.delete(d.chatId);
      if (d.operatorId === me) q.mine.set(d.chatId, chat);
      else q.mine.delete(d.chatId);
      return;
    }
    case 'switchboard.chat.released.v1': {
      const chat = q.mine.get(d.chatId) ?? { id: d.chatId };
      q.mine.delete(d.chatId);
      // After my reply the chat waits on the customer: still mine to watch, not in the queue.
      if (d.reason === 'replied' && d.operatorId === me) q.mine.set(d.chatId, { ...chat, waitingOnCustomer: true });
      else if (d.reason !== 'replied' && d.reason !== 'completed') q.waiting.set(d.chatId, chat);
      return;
    }
    case 'switchboard.chat.completed.v1':
      q.waiting.delete(d.chatId);
      q.mine.delete(d.chatId);
      return;
    default:
      return;
  }
}

const RANK = { sent: 1, failed: 2, delivered: 3, read: 4 };

/** A delivery status only moves forward (seed 001), whatever order the events come in. */
export function newerStatus(current, next) {
  return (RANK[next] ?? 0) > (RANK[current] ?? 0) ? next : current;
}
