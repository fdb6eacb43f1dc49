/**
 * The embedded MQTT broker (aedes), the default when no --broker is given, so a show runs with
 * nothing else installed. Production uses Mosquitto (see deploy/mosquitto/). aedes speaks
 * MQTT 3.1.1 only, which is all Kuroko needs.
 *
 * With a credentials store (hub/access/) it authenticates every client and checks every publish,
 * subscribe and delivery against the rules derived from the channel table, serves MQTT over TLS
 * with the show's certificate, and drops a connection whose packet header announces more than
 * the size limit, before the body is buffered.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aedes, type AedesOptions } from 'aedes';
import type { AccessStore } from './access/store.ts';
import { aedesAuthHooks, type AedesAuthHooks } from './access/aedes-auth.ts';
import { MAX_PACKET_BYTES } from './access/mosquitto.ts';

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** mqtts:// on the TLS port, when a credentials store was given and TLS is on. */
  tlsUrl?: string;
  tlsPort?: number;
  /** The auth hooks (who published a console command; refusal counts), when secured. */
  auth?: AedesAuthHooks;
  /** Connections dropped for an oversized packet. */
  oversized: { count: number };
  /** Lets every client in (see `admitFirst`). */
  admitAll(): void;
  close(): Promise<void>;
}

export interface BrokerSecurity {
  store: AccessStore;
  /** TLS port (default 8883; 0 = any free port; null = no TLS listener). */
  tlsPort?: number | null;
  /** Where the TLS listener binds (default: every interface, the show network). */
  tlsHost?: string;
  onRefused?: (what: string) => void;
}

export interface EmbeddedBrokerOptions {
  port?: number;
  /** Bind address of the plain listener (default 127.0.0.1 when secured, else 0.0.0.0). */
  host?: string;
  /** When the port is taken (say, by a Mosquitto service on 1883), take any free port instead. */
  fallback?: boolean;
  security?: BrokerSecurity;
  maxPacketBytes?: number;
  /**
   * Until admitAll(), only clients whose id starts with this are let in — so after a hub restart
   * the hub subscribes before anyone else can publish (an e-stop an operator's client held while
   * the hub and its broker were down reaches the hub, not an empty broker).
   */
  admitFirst?: string;
}

/**
 * Drops a connection as soon as an MQTT fixed header announces a packet larger than `max`: the
 * parser learns the remaining length from the first bytes, long before the body has arrived.
 */
function guardPacketSize(socket: Socket, max: number, onOversize: () => void): void {
  const client = (socket as Socket & { client?: { _parser?: { _parseLength?: () => boolean; packet: { length: number } } } }).client;
  const parser = client?._parser;
  if (!parser?._parseLength) throw new Error('aedes internals changed: the packet size guard (hub/broker.ts) cannot attach; check the aedes version');
  const parseLength = parser._parseLength.bind(parser);
  parser._parseLength = () => {
    const done = parseLength();
    if (done && parser.packet.length > max) {
      onOversize();
      socket.destroy();
      return false;
    }
    return done;
  };
}

export async function startEmbeddedBroker(portOrOptions: number | EmbeddedBrokerOptions = 1883, host?: string, fallback = false, admitFirst?: string): Promise<EmbeddedBroker> {
  const o: EmbeddedBrokerOptions = typeof portOrOptions === 'number' ? { port: portOrOptions, host, fallback, admitFirst } : portOrOptions;
  const sec = o.security;
  const auth = sec ? aedesAuthHooks(sec.store, sec.onRefused) : undefined;
  let open = !o.admitFirst;
  const opts: AedesOptions = {
    drainTimeout: 30000,
    preConnect: (_client, packet, done) => done(null, open || (!!packet.clientId && packet.clientId.startsWith(o.admitFirst!))),
  };
  if (auth) Object.assign(opts, { authenticate: auth.authenticate, authorizePublish: auth.authorizePublish, authorizeSubscribe: auth.authorizeSubscribe, authorizeForward: auth.authorizeForward });
  const aedes = await Aedes.createBroker(opts);
  const max = o.maxPacketBytes ?? MAX_PACKET_BYTES;
  const oversized = { count: 0 };
  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    // Without TCP_NODELAY the first small packet on a fresh connection waits ~40 ms (Nagle + delayed ACK).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    aedes.handle(socket);
    guardPacketSize(socket, max, () => { oversized.count++; sec?.onRefused?.(`connection dropped: a packet of more than ${max} bytes was announced`); });
  };
  const listen = (server: Server, p: number, h: string) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, h, () => { server.off('error', reject); resolve(); });
  });
  const plainHost = o.host ?? (sec ? '127.0.0.1' : '0.0.0.0');
  const server: Server = createServer(onSocket);
  const port = o.port ?? 1883;
  try {
    await listen(server, port, plainHost);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'EADDRINUSE') throw err;
    if (!o.fallback) throw new Error(`port ${port} is already in use (another MQTT broker, or another Kuroko?): stop it, or pass --port N, or use it with --broker mqtt://127.0.0.1:${port}`);
    await listen(server, 0, plainHost);
  }
  const actual = (server.address() as { port: number }).port;
  let tlsServer: Server | null = null;
  let tlsPort: number | undefined;
  if (sec && sec.tlsPort !== null) {
    const dir = sec.store.dir;
    tlsServer = createTlsServer({
      key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.crt')), ca: readFileSync(join(dir, 'ca.crt')),
      // Nodes may present their client certificate; the password decides (as on Mosquitto's 8883 listener).
      requestCert: true, rejectUnauthorized: false,
    }, onSocket as (s: Socket) => void);
    const want = sec.tlsPort ?? 8883;
    try {
      await listen(tlsServer, want, sec.tlsHost ?? '0.0.0.0');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || !o.fallback) throw new Error(`TLS port ${want}: ${(e as Error).message}; pass --tls-port N`);
      await listen(tlsServer, 0, sec.tlsHost ?? '0.0.0.0');
    }
    tlsPort = (tlsServer.address() as { port: number }).port;
  }
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    ...(tlsPort !== undefined ? { tlsUrl: `mqtts://localhost:${tlsPort}`, tlsPort } : {}),
    ...(auth ? { auth } : {}),
    oversized,
    admitAll() { open = true; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      if (tlsServer) await new Promise<void>((r) => tlsServer.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}
