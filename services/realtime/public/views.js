// Rendering only: every untrusted string goes in through textContent, never as HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? '')));
  return node;
}

const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');

export function renderChats(list, chats, selected, open) {
  list.replaceChildren(
    ...[...chats.values()].map((c) =>
      el(
        'li',
        { class: c.id === selected ? 'selected' : '', 'data-chat': c.id, onclick: () => open(c.id) },
        c.from ?? c.id.slice(0, 8),
        el('small', {}, c.waitingOnCustomer ? `waiting on the customer · ${c.text ?? ''}` : (c.text ?? '')),
      ),
    ),
  );
}

const TICKS = { sent: '✓', failed: '!', delivered: '✓✓', read: '✓✓' };

export function messageItem(m) {
  const status = m.deliveryStatus;
  return el(
    'li',
    { class: m.direction === 'outbound' ? 'outbound' : 'inbound', 'data-message': m.id },
    el('span', { class: 'text' }, m.text ?? `(${m.type})`),
    el('span', { class: 'tick muted' }, time(m.receivedAt ?? m.sentAt)),
    status ? el('span', { class: `tick ${status}`, 'data-status': status, title: status }, TICKS[status] ?? '') : '',
  );
}

export function renderHistory(list, history) {
  list.replaceChildren(
    ...history.map((h) =>
      el(
        'li',
        {},
        `${time(h.at ?? h.changedAt)} ${h.previousStatus ?? '∅'} → ${h.status} (${h.source ?? ''}${h.changedBy ? `, ${h.changedBy}` : ''})`,
      ),
    ),
  );
}

export function renderSupervisor(status, stuck) {
  $('queue-status').replaceChildren(
    el('dt', {}, 'waiting'),
    el('dd', { id: 'sv-waiting' }, status.waiting),
    el('dt', {}, 'oldest wait'),
    el('dd', {}, status.oldestWaitSeconds === null ? '–' : `${status.oldestWaitSeconds} s`),
    el('dt', {}, 'operators online'),
    el('dd', {}, status.operatorsOnline),
  );
  $('operators').replaceChildren(
    ...status.operators.map((o) => el('li', {}, o.id, el('small', {}, `load ${o.load} / ${o.capacity}`))),
  );
  $('stuck').replaceChildren(
    ...(stuck.chats.length === 0
      ? [el('li', { class: 'muted' }, 'none')]
      : stuck.chats.map((c) =>
          el(
            'li',
            {},
            c.chatId.slice(0, 8),
            el('small', {}, `${c.state} · ${c.operatorId ?? ''} since ${time(c.since)}`),
          ),
        )),
  );
}
