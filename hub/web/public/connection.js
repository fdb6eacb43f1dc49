// The page's WebSocket to the hub: reconnects by itself, and pairs each control message with the
// hub's reply (by ref) so a button can show what became of its press.
export function connect({ token, onMessage, onStatus }) {
  let ws = null;
  let ref = 0;
  let delay = 500;
  let refused = false;
  const waiting = new Map();

  const open = () => {
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    if (token) url.searchParams.set('token', token);
    ws = new WebSocket(url);
    onStatus('connecting');
    ws.onopen = () => { delay = 500; onStatus('live'); };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === 'refused') refused = true;
      if (msg.type === 'reply' && waiting.has(msg.ref)) {
        waiting.get(msg.ref)(msg);
        waiting.delete(msg.ref);
      }
      onMessage(msg);
    };
    ws.onclose = (ev) => {
      for (const [r, resolve] of waiting) resolve({ ref: r, ok: false, message: 'the connection to the hub closed before it answered' });
      waiting.clear();
      // 4401: no or wrong token. Retrying cannot help, so say so and stop.
      if (refused || ev.code === 4401) return onStatus('refused');
      onStatus('reconnecting');
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  open();

  return {
    /** Sends a control message with the token; resolves with the hub's reply. */
    send(msg) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve({ ok: false, message: 'not connected to the hub' });
      const r = ++ref;
      ws.send(JSON.stringify({ ...msg, ref: r, ...(token ? { token } : {}) }));
      return new Promise((resolve) => {
        waiting.set(r, resolve);
        setTimeout(() => {
          if (waiting.has(r)) { waiting.delete(r); resolve({ ok: false, message: 'the hub did not answer within 5 s' }); }
        }, 5000);
      });
    },
  };
}
