// The operator console: the queue and my chats (live), Next chat / release / complete through the
// assignment-worker's routes, a conversation view (messages and delivery ticks live, statuses and
// their history through the read API) and a supervisor view. All calls go to this origin: the
// gateway proxies /api/read → sync-worker and /api/assignment → assignment-worker.
import { openLive } from './live.js';
import { emptyQueue, foldQueue, newerStatus } from './state.js';
import { $, messageItem, renderChats, renderHistory, renderSupervisor } from './views.js';

const session = { token: '', operator: '', selected: '', queue: emptyQueue(), tickets: new Map() };
let live;

async function api(path, init = {}) {
  const res = await fetch(path, {
    ...init,
    headers: { authorization: `Bearer ${session.token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) },
  });
  if (res.status === 204) return { status: 204, reason: res.headers.get('x-switchboard-reason') };
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw Object.assign(new Error(body.message ?? `${res.status}`), { status: res.status });
  return body;
}

function renderQueue() {
  $('waiting-count').textContent = String(session.queue.waiting.size);
  renderChats($('queue'), session.queue.waiting, session.selected, openConversation);
  renderChats($('mine'), session.queue.mine, session.selected, openConversation);
}

let supervisorTimer;
function refreshSupervisor() {
  clearTimeout(supervisorTimer);
  supervisorTimer = setTimeout(async () => {
    const [status, stuck] = await Promise.all([
      api('/api/assignment/queue/status'),
      api('/api/assignment/chats/stuck?hours=1'),
    ]);
    renderSupervisor(status, stuck);
  }, 150);
}

async function openConversation(id) {
  if (session.selected) live.unsubscribe([`conversation:${session.selected}`]);
  session.selected = id;
  session.tickets = new Map();
  live.subscribe([`conversation:${id}`]);
  renderQueue();
  const [conv, page] = await Promise.all([
    api(`/api/read/conversations/${id}`),
    api(`/api/read/conversations/${id}/messages?limit=50`),
  ]);
  $('conversation-empty').hidden = true;
  $('conversation-body').hidden = false;
  const c = conv.customer;
  $('customer').textContent = c.name ? `${c.name} (${c.phoneE164 ?? c.email ?? ''})` : (c.phoneE164 ?? c.email ?? c.id);
  $('conversation-status').textContent = conv.status;
  $('tickets').textContent = '–';
  $('messages').replaceChildren(...page.messages.reverse().map(messageItem));
  await refreshHistory();
}

async function refreshHistory() {
  if (!session.selected) return;
  const h = await api(`/api/read/conversations/${session.selected}/status-history`);
  $('conversation-status').textContent = h.status;
  renderHistory($('history'), h.history);
}

function onConversationEvent(f) {
  const d = f.data ?? {};
  if (d.conversationId !== session.selected && d.chatId !== session.selected) return;
  if (f.cloudEventType === 'switchboard.message.received.v1' || f.cloudEventType === 'switchboard.message.sent.v1') {
    if (document.querySelector(`[data-message="${d.messageId}"]`)) return;
    const direction = f.cloudEventType.includes('received') ? 'inbound' : 'outbound';
    $('messages').append(
      messageItem({
        id: d.messageId,
        direction,
        text: d.text,
        type: d.type,
        receivedAt: d.receivedAt ?? d.sentAt,
        deliveryStatus: direction === 'outbound' ? 'sent' : null,
      }),
    );
  } else if (f.event === 'message_status_changed' || f.event === 'email_event') {
    const li = document.querySelector(`[data-message="${d.messageId}"]`);
    const tick = li?.querySelector('[data-status]');
    const status = newerStatus(tick?.dataset.status, d.status);
    if (li)
      li.replaceWith(
        messageItem({
          id: d.messageId,
          direction: 'outbound',
          text: li.querySelector('.text').textContent,
          deliveryStatus: status,
        }),
      );
  } else if (f.event === 'ticket_status_changed') {
    session.tickets.set(d.externalTicketId ?? d.ticketId, d.status);
    $('tickets').textContent = [...session.tickets].map(([t, s]) => `${t}: ${s}`).join(', ');
  } else if (f.event === 'conversation_state_changed') {
    void refreshHistory();
  }
}

function onEvent(f) {
  foldQueue(session.queue, f, session.operator);
  if (f.topics.includes('queue')) {
    renderQueue();
    refreshSupervisor();
  }
  onConversationEvent(f);
}

async function command(path, body) {
  try {
    const r = await api(path, { method: 'POST', body: JSON.stringify(body ?? {}) });
    $('next-result').textContent = r.status === 204 ? `nothing to take (${r.reason})` : '';
    if (r.chatId) await openConversation(r.chatId);
  } catch (err) {
    $('next-result').textContent = err.message;
  }
}

$('next-chat').addEventListener('click', () =>
  command(`/api/assignment/operators/${encodeURIComponent(session.operator)}/next-chat`),
);
$('release').addEventListener('click', () =>
  command(`/api/assignment/chats/${session.selected}/release`, { reason: 'released' }),
);
$('complete').addEventListener('click', () => command(`/api/assignment/chats/${session.selected}/complete`));

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  session.token = $('token').value.trim();
  session.operator = $('operator').value.trim();
  const browserToken = () => api('/auth/token', { method: 'POST' });
  try {
    const who = await browserToken();
    $('who').textContent = `${who.slug} · ${session.operator}`;
  } catch (err) {
    $('login-error').textContent = `sign-in failed: ${err.message}`;
    return;
  }
  $('login').hidden = true;
  $('console').hidden = false;
  live = openLive({
    browserToken,
    onEvent,
    onReset: () => {
      session.queue = emptyQueue();
      renderQueue();
    },
    onLink: (up) => {
      $('link').textContent = up ? 'live' : 'offline';
      $('link').className = `pill ${up ? 'on' : 'off'}`;
    },
    onSignedOut: () => {
      $('link').textContent = 'signed out: token refused';
      $('link').className = 'pill off';
    },
  });
  live.subscribe(['queue', `operator:${session.operator}`]);
  await live.start();
  refreshSupervisor();
  setInterval(refreshSupervisor, 10_000);
});
