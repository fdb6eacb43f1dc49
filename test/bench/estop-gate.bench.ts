/**
 * E-stop benchmark for the edge: how long from the node receiving an e-stop to the gate's safe
 * write, and what the safety gate costs a motion frame.
 *  1. a real node (simulated hardware) on aedes in this process: a stand-in hub publishes stamped
 *     e-stops; we time the MQTT publish → the node's 'message' event (receipt) → backend.safe()
 *     (the safe write) → the latch file stored; beside a raw mqtt.js publish → receive between two
 *     clients on the same broker (the floor);
 *  2. the emulated Uno (Kuroko firmware): e-stop → the servo detached on the board (pulse 0);
 *  3. a servo write through a lease (gate checks + clamps) beside a direct backend write.
 * Run: npm run bench:estop   (N e-stops: BENCH_N, default 200)
 */
import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { pino } from 'pino';
import { startEmbeddedBroker } from '../../hub/broker.ts';
import { loadProfile, parseProfile } from '../../firmware-config/profile.ts';
import { SimHardware } from '../../edge/hardware/sim.ts';
import { SimVoice } from '../../edge/voice/sim-voice.ts';
import { EdgeNode } from '../../edge/node.ts';
import { SafetyGate } from '../../edge/safety.ts';
import { MotionController } from '../../edge/motion.ts';
import { EstopLatch, FileLatchStore } from '../../edge/estop-latch.ts';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { JohnnyFiveHardware } from '../../edge/hardware/johnny-five.ts';
import { encode, topic } from '../../protocol/index.ts';
import { ROOT } from '../helpers/stage.ts';
import { percentile, fmt, table } from './stats.ts';

const N = Number(process.env.BENCH_N ?? 200);
const SHOW = 'bench';
const PROFILE = loadProfile(join(ROOT, 'firmware-config/profiles/sim-robot.yaml'));
const stats = (xs: number[]) => [fmt(percentile(xs, 50)), fmt(percentile(xs, 99)), fmt(Math.max(...xs))];

// ---- 1. node on aedes ---------------------------------------------------------------
const broker = await startEmbeddedBroker(0, '127.0.0.1');
let safeAt = 0;
class TimedSim extends SimHardware { override safe(r: string): void { safeAt = performance.now(); super.safe(r); } }
const latchFile = join(mkdtempSync(join(tmpdir(), 'kuroko-bench-')), 'estop-latch.json');
const node = new EdgeNode({ show: SHOW, node: 'ann', brokerUrl: broker.url, profile: PROFILE, hardware: new TimedSim(PROFILE.profile), voice: new SimVoice(), logger: pino({ level: 'silent' }), latchFile, watchdogMs: 60_000 });
await node.start();
// The earliest moment the node's code sees the message: a listener put before the node's own.
let receivedAt = 0;
(node as unknown as { client: { prependListener(e: 'message', f: (t: string) => void): void } }).client.prependListener('message', (t) => { if (t.endsWith('/estop')) receivedAt = performance.now(); });
let latchSavedAt = 0;
const store = node.gate.latch.store as FileLatchStore;
const save = store.save.bind(store);
store.save = (s) => { save(s); latchSavedAt = performance.now(); };
const hub = connect(broker.url, { clean: true });
await new Promise((r) => hub.once('connect', r));
const until = async (ok: () => boolean) => { const end = Date.now() + 5000; while (!ok()) { if (Date.now() > end) throw new Error('timed out'); await new Promise((r) => setImmediate(r)); } };
const wire: number[] = []; const toSafe: number[] = []; const toLatch: number[] = []; const total: number[] = [];
for (let i = 0; i < N; i++) {
  safeAt = 0; receivedAt = 0; latchSavedAt = 0;
  const t0 = performance.now();
  hub.publish(topic(SHOW, 'estop'), encode('estop', { v: 1, active: true, source: 'bench', stamp: { epoch: 1, seq: 2 * i + 1 }, ts: Date.now() }), { qos: 1, retain: true });
  await until(() => latchSavedAt > 0 && safeAt > 0);
  wire.push(receivedAt - t0); toSafe.push(safeAt - receivedAt); toLatch.push(latchSavedAt - safeAt); total.push(safeAt - t0);
  hub.publish(topic(SHOW, 'estop'), encode('estop', { v: 1, active: false, source: 'bench', stamp: { epoch: 1, seq: 2 * i + 2 }, ts: Date.now() }), { qos: 1, retain: true });
  await until(() => node.gate.state !== 'estopped');
}
// The floor: raw publish → receive between two plain clients on the same broker.
const a = connect(broker.url); const b = connect(broker.url);
await Promise.all([new Promise((r) => a.once('connect', r)), new Promise((r) => b.once('connect', r))]);
await b.subscribeAsync('floor/x', { qos: 1 });
const floor: number[] = [];
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const got = new Promise<void>((r) => b.once('message', () => r()));
  a.publish('floor/x', '{"v":1}', { qos: 1 });
  await got;
  floor.push(performance.now() - t0);
}
await Promise.all([a.endAsync(), b.endAsync(), hub.endAsync()]);
await node.stop();
await broker.close();

console.log(`\nE-stop on a real node (sim hardware, aedes in process), ${N} e-stops, ms`);
console.log(table(['step', 'p50', 'p99', 'max'], [
  ['raw mqtt publish → receive (floor)', ...stats(floor)],
  ['hub publish → node receipt', ...stats(wire)],
  ['node receipt → safe write (backend.safe)', ...stats(toSafe)],
  ['safe write → latch stored (tmp+fsync+rename)', ...stats(toLatch)],
  ['hub publish → safe write', ...stats(total)],
]));

// ---- 2. emulated Uno --------------------------------------------------------------
const emu = await EmulatedUno.start();
const { profile: uno } = parseProfile('bench-uno.yaml', `
kuroko: 1
platform: linux
boards:
  - { id: body, type: firmata, model: uno, port: "${emu.ptyPath}" }
servos:
  - { id: pan, pin: 9, min: 0, max: 180, rest: 90, maxSpeed: 600 }
`);
const hw = new JohnnyFiveHardware(uno);
const gate = new SafetyGate(uno, hw, 60_000, { latch: new EstopLatch(new FileLatchStore(join(mkdtempSync(join(tmpdir(), 'kuroko-bench-')), 'l.json'))) });
await gate.open();
gate.hubHeartbeat();
const M = Math.min(N, 20);
const board: number[] = [];
for (let i = 0; i < M; i++) {
  gate.arm();
  const l = gate.acquire('bench')!;
  l.writeServo('pan', 91 + (i % 2));
  for (;;) { if ((EmulatedUno.hardwarePulseUs(await emu.state(), 9)) > 0) break; }
  const t0 = performance.now();
  gate.estop('console', 'bench');
  for (;;) { if (EmulatedUno.hardwarePulseUs(await emu.state(), 9) === 0) break; }
  board.push(performance.now() - t0);
  gate.release({ retained: false });
}
gate.close();
await hw.close();
await emu.stop();

// Board unplugged mid-motion: the emulator (and its device path) goes away; time to the gate's revoke.
const unplug: number[] = [];
for (let i = 0; i < 5; i++) {
  const link = join(mkdtempSync(join(tmpdir(), 'kuroko-bench-')), 'tty');
  const e = await EmulatedUno.start({ link });
  const { profile: p } = parseProfile('bench-unplug.yaml', `
kuroko: 1
platform: linux
boards:
  - { id: body, type: firmata, model: uno, port: "${link}" }
servos:
  - { id: pan, pin: 9, min: 0, max: 180, rest: 90, maxSpeed: 90 }
`);
  const h = new JohnnyFiveHardware(p);
  const g = new SafetyGate(p, h, 60_000);
  await g.open();
  g.hubHeartbeat();
  g.arm();
  const m = new MotionController(p, g);
  void m.moveServos({ pan: 170 }, 5000);
  await new Promise((r) => setTimeout(r, 300));
  let revokedAt = 0;
  g.once('revoked', () => { revokedAt = performance.now(); });
  const t0 = performance.now();
  await e.stop();
  const end = Date.now() + 5000;
  while (!revokedAt && Date.now() < end) await new Promise((r) => setTimeout(r, 1));
  unplug.push(revokedAt ? revokedAt - t0 : Number.NaN);
  m.close(); g.close(); await h.close();
}
console.log(`\nE-stop on the emulated Uno (Kuroko firmware), ${M} e-stops, ms (includes polling the emulator state, ~1 ms a poll)`);
console.log(table(['step', 'p50', 'p99', 'max'], [
  ['gate.estop() → servo detached on the board', ...stats(board)],
  [`board unplugged mid-motion → every lease revoked (${unplug.length} unplugs)`, ...stats(unplug)],
]));

// ---- 3. cost of the gate on a write -------------------------------------------------
const sim = new SimHardware(PROFILE.profile);
const g = new SafetyGate(PROFILE.profile, sim, 60_000);
g.hubHeartbeat(); g.arm();
const lease = g.acquire('bench')!;
const K = 200_000;
let t = performance.now();
for (let i = 0; i < K; i++) sim.writeServo('head-pan', 90 + (i % 2) * 0.001);
const direct = (performance.now() - t) / K * 1e6;
t = performance.now();
for (let i = 0; i < K; i++) lease.writeServo('head-pan', 90 + (i % 2) * 0.001);
const gated = (performance.now() - t) / K * 1e6;
g.close();
console.log(`\nOne servo write, ns (${K} writes)`);
console.log(table(['path', 'ns/write'], [['backend direct (baseline)', direct.toFixed(0)], ['through a lease (gate checks + clamps)', gated.toFixed(0)]]));
process.exit(0);
