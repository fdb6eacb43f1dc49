/**
 * The embedded MQTT broker (aedes), the default when no --broker is given, so a show runs with
 * nothing else installed. Production uses Mosquitto (see deploy/mosquitto/). aedes speaks
 * MQTT 3.1.1 only, which is all Kuroko needs.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  port: number;
  /** Lets every client in (see `admitFirst`). */
  admitAll(): void;
  close(): Promise<void>;
}

/**
 * fallback: when the port is taken (say, by a Mosquitto service on 1883), take any free port instead.
 * admitFirst: until admitAll(), only clients whose id starts with this are let in — so after a hub
 * restart the hub subscribes before anyone else can publish (an e-stop an operator's client held
 * while the hub and its broker were down reaches the hub, not an empty broker).
 */
export async function startEmbeddedBroker(port = 1883, host = '0.0.0.0', fallback = false, admitFirst?: string): Promise<EmbeddedBroker> {
  let open = !admitFirst;
  const aedes = await Aedes.createBroker({
    drainTimeout: 30000,
    preConnect: (client, packet, done) => done(null, open || (!!packet.clientId && packet.clientId.startsWith(admitFirst!))),
  });
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    // Without TCP_NODELAY the first small packet on a fresh connection waits ~40 ms (Nagle + delayed ACK).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const listen = (p: number) => new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(p, host, () => { server.off('error', reject); resolve(); });
  });
  try {
    await listen(port);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'EADDRINUSE') throw err;
    if (!fallback) throw new Error(`port ${port} is already in use (another MQTT broker, or another Kuroko?): stop it, or pass --port N, or use it with --broker mqtt://127.0.0.1:${port}`);
    await listen(0);
  }
  const actual = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${actual}`,
    port: actual,
    admitAll() { open = true; },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}
