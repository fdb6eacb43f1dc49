// The page's WebSocket to the hub: reconnects by itself, and pairs each control message with the
// hub's reply (by ref) so a button can show what became of its press. The session cookie (set at
// log-in) authenticates it; no token travels in an address.
import type { ClientMessageT, ServerMessageT, ReplyT } from '../page-protocol.ts';

export type LinkStatus = 'connecting' | 'live' | 'reconnecting' | 'refused';
type Outgoing = ClientMessageT extends infer M ? (M extends { ref?: unknown } ? Omit<M, 'ref'> : never) : never;
export type Reply = Pick<ReplyT, 'ok' | 'message'>;

export interface Link {
  send(msg: Outgoing): Promise<Reply>;
  /** Opens the socket again (after a log-in). */
  reopen(): void;
}

export function connect(o: { onMessage: (m: ServerMessageT) => void; onStatus: (s: LinkStatus) => void }): Link {
  let ws: WebSocket | null = null;
  let ref = 0;
  let delay = 500;
  let refused = false;
  const waiting = new Map<number, (r: Reply) => void>();

  const open = (): void => {
    refused = false;
    const url = new URL('/ws', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(url);
    o.onStatus('connecting');
    ws.onopen = () => { delay = 500; o.onStatus('live'); };
    ws.onmessage = (ev: MessageEvent<string>) => {
      const msg = JSON.parse(ev.data) as ServerMessageT;
      if (msg.type === 'refused') refused = true;
      if (msg.type === 'reply' && typeof msg.ref === 'number' && waiting.has(msg.ref)) {
        waiting.get(msg.ref)!(msg);
        waiting.delete(msg.ref);
      }
      o.onMessage(msg);
    };
    ws.onclose = (ev: CloseEvent) => {
      for (const resolve of waiting.values()) resolve({ ok: false, message: 'the connection to the hub closed before it answered' });
      waiting.clear();
      // 4401: not logged in. Retrying cannot help until the operator logs in.
      if (refused || ev.code === 4401) return o.onStatus('refused');
      o.onStatus('reconnecting');
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  open();

  return {
    send(msg) {
      if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve({ ok: false, message: 'not connected to the hub' });
      const r = ++ref;
      ws.send(JSON.stringify({ ...msg, ref: r }));
      return new Promise((resolve) => {
        waiting.set(r, resolve);
        setTimeout(() => {
          if (waiting.has(r)) { waiting.delete(r); resolve({ ok: false, message: 'the hub did not answer within 5 s' }); }
        }, 5000);
      });
    },
    reopen() {
      if (ws && ws.readyState !== WebSocket.CLOSED) ws.close();
      open();
    },
  };
}
