/**
 * OSC round trip: a UDP client sends /kuroko/{show}/go (and /state) to the hub's OSC endpoint and
 * waits for the reply, N times; prints p50/p99 beside a raw UDP echo on the same machine (the floor).
 * The hub is not started (no broker): this measures the OSC endpoint and the console command path.
 *   npm run bench:osc [-- N]
 */
import { createSocket } from 'node:dgram';
import { pino } from 'pino';
import osc, { type OscMessage } from 'osc';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { OscServer } from '../../hub/osc/server.ts';
import { AllowList } from '../../hub/osc/allow-list.ts';
import { commandsOf, stageStateOf } from '../../hub/osc/hub-adapter.ts';

const N = Number(process.argv[2] ?? 500);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const hub = new Hub({ show: loadShow('test/osc/fixtures/osc-show.yaml'), logger: pino({ level: 'silent' }) });
const server = new OscServer({ show: 'osctest', allowArm: true, port: 0, host: '127.0.0.1', allow: new AllowList(['127.0.0.1']), commands: commandsOf(hub), state: stageStateOf(hub) });
await server.start();
const client = createSocket('udp4');
await new Promise<void>((r) => client.bind(0, '127.0.0.1', () => r()));

async function roundTrips(send: () => void, isAnswer: (d: Buffer) => boolean): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      const on = (d: Buffer) => { if (isAnswer(d)) { client.off('message', on); resolve(); } };
      client.on('message', on);
      send();
    });
    out.push(performance.now() - t0);
  }
  return out;
}

const go = Buffer.from(osc.writePacket({ address: '/kuroko/osctest/go', args: [] }, { metadata: true }));
const osc_ = await roundTrips(() => client.send(go, server.port, '127.0.0.1'), (d) => (osc.readPacket(d, { metadata: true }) as OscMessage).address.endsWith('/reply'));

// The floor: a raw UDP echo between two sockets of this process.
const echo = createSocket('udp4');
await new Promise<void>((r) => echo.bind(0, '127.0.0.1', () => r()));
echo.on('message', (d, r) => echo.send(d, r.port, r.address));
const raw = await roundTrips(() => client.send(go, echo.address().port, '127.0.0.1'), () => true);

const row = (name: string, xs: number[]) => console.log(`${name.padEnd(34)} p50 ${pct(xs, 50).toFixed(3)} ms   p99 ${pct(xs, 99).toFixed(3)} ms   (n=${xs.length})`);
row('raw UDP echo (floor)', raw);
row('OSC /go → hub console → /reply', osc_);
console.log(`Kuroko adds ${(pct(osc_, 50) - pct(raw, 50)).toFixed(3)} ms at p50 over the floor.`);
client.close(); echo.close();
await server.close();
process.exit(0);
