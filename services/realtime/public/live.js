// The console's WebSocket: a browser token minted from the read-API token, subscriptions that
// survive reconnects, and resume by the last event id (a `reload` answer means the gap was older
// than the gateway's log: the console rebuilds its state from what the log keeps). Every connect
// mints a fresh token, so a token the gateway closed as expired (4001) is simply replaced; a
// read-API token refused (401/403) ends the session instead of retrying forever.

export function openLive({ browserToken, onEvent, onReset, onLink, onSignedOut }) {
  const topics = new Set();
  let ws;
  let lastEventId;
  let retry = 500;
  let first = true;

  const send = (msg) => ws?.readyState === WebSocket.OPEN && ws.send(JSON.stringify(msg));

  async function connect() {
    const { token } = await browserToken();
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    ws = new WebSocket(url);
    ws.onopen = () => {
      retry = 500;
      onLink(true);
      const resume = lastEventId && !first ? { lastEventId } : { replay: 'kept' };
      first = false;
      if (topics.size > 0) send({ type: 'subscribe', topics: [...topics], ...resume });
    };
    ws.onmessage = (m) => {
      const f = JSON.parse(m.data);
      if (f.type === 'event') {
        lastEventId = f.id;
        onEvent(f);
      } else if (f.type === 'reload') {
        onReset();
        send({ type: 'subscribe', topics: [...topics], replay: 'kept' });
      }
    };
    ws.onclose = reconnect;
  }

  function reconnect() {
    onLink(false);
    setTimeout(
      () => connect().catch((err) => (err.status === 401 || err.status === 403 ? onSignedOut() : reconnect())),
      retry,
    );
    retry = Math.min(retry * 2, 10_000);
  }

  return {
    start: connect,
    subscribe(list) {
      const fresh = list.filter((t) => !topics.has(t));
      for (const t of fresh) topics.add(t);
      if (fresh.length > 0) send({ type: 'subscribe', topics: fresh });
    },
    unsubscribe(list) {
      for (const t of list) topics.delete(t);
      if (list.length > 0) send({ type: 'unsubscribe', topics: list });
    },
  };
}
