/**
 * npm run bench: cue latency hub → node → ack (p50, p99) for 4 and 12 simulated nodes, on aedes
 * and on Mosquitto, beside a raw mqtt.js publish → subscribe → publish round trip on the same
 * broker in the same run (the floor: the same two hops with no Kuroko code). Also the e-stop
 * latency: console e-stop published → every node's state reads estopped.
 * Goals: Kuroko adds at most 1 ms at p99 over the floor; e-stop reaches all 12 nodes within 50 ms p99.
 */
// Node processes keep their e-stop latch in a var dir of this run only: one left latched by an earlier run must not hold these e-stopped.
import '../helpers/isolated-var-dir.ts';
import { performance } from 'node:perf_hooks';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { Hub } from '../../hub/hub.ts';
import { newCueId } from '../../hub/playback.ts';
import type { ShowT } from '../../hub/show/schema.ts';
import { topic, filter } from '../../protocol/index.ts';
import { spawnEdge, stopChild, waitFor } from '../helpers/stage.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { percentile, fmt, table } from './stats.ts';
import { cueLatency, within } from './cue-probe.ts';
import { codecBreakdown, trafficCensus } from './hot-path.ts';

/** Every wait in a benchmark has a limit: a stuck run says where it stuck instead of hanging. */
const CUES = Number(process.env.BENCH_CUES ?? 300);
const ESTOPS = Number(process.env.BENCH_ESTOPS ?? 30);

function benchShow(n: number): ShowT {
  const cast = Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}`, name: `N${i + 1}`, node: `n${i + 1}` }));
  return { kuroko: 1, show: 'bench', title: 'bench', cast, scenes: [{ id: 's', cues: [{ id: 'c', kind: 'wait', duration: 0 }] }] };
}

async function client(url: string): Promise<MqttClient> {
  const c = connect(url, { clean: true, reconnectPeriod: 0 });
  await new Promise<void>((r, j) => { c.once('connect', () => r()); c.once('error', j); });
  (c.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  return c;
}

/** The echo side of the floor runs in its own process, as a node does. */
const ECHO = `
  const { connect } = require('mqtt');
  const b = connect(process.argv[1], { clean: true, reconnectPeriod: 0 });
  b.on('connect', async () => {
    b.stream.setNoDelay && b.stream.setNoDelay(true);
    await b.subscribeAsync('bench/ping', { qos: 1 });
    b.on('message', (_t, p) => b.publish('bench/pong', p, { qos: 1 }));
    console.log('ready');
  });`;

/** The floor: A publishes (QoS 1), B (another process) receives and publishes back (QoS 1), A receives. */
async function rawRoundTrip(url: string, count: number): Promise<number[]> {
  const a = await client(url);
  const echo = spawn(process.execPath, ['-e', ECHO, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  await within('the echo process to connect', 15000, new Promise<void>((r) => echo.stdout!.once('data', () => r())));
  await a.subscribeAsync('bench/pong', { qos: 1 });
  const out: number[] = [];
  const payload = JSON.stringify({ v: 1, id: newCueId(), padding: 'x'.repeat(180) });
  for (let i = 0; i < count + 20; i++) {
    const t0 = performance.now();
    await within('a raw round trip', 5000, new Promise<void>((resolve) => { a.once('message', () => resolve()); a.publish('bench/ping', payload, { qos: 1 }); }));
    if (i >= 20) out.push(performance.now() - t0); // skip warm-up
  }
  await a.endAsync();
  echo.kill();
  return out;
}

async function estopLatency(url: string, nodes: string[], count: number, hubHasEstop: () => boolean): Promise<number[]> {
  const monitor = await client(url);
  const states = new Map<string, string>();
  monitor.on('message', (t, p) => {
    const node = t.split('/')[4]!;
    try { states.set(node, JSON.parse(p.toString()).state); } catch { /* ignore */ }
  });
  await monitor.subscribeAsync(filter('bench', 'nodeState'), { qos: 1 });
  const operator = await client(url);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    await waitFor('nodes ready', () => nodes.every((n) => states.get(n) === 'ready' || states.get(n) === 'armed'), 10000);
    const t0 = performance.now();
    operator.publish(topic('bench', 'consoleEstop'), '', { qos: 1 });
    await within('every node to read estopped', 5000, new Promise<void>((resolve) => {
      const check = () => { if (nodes.every((n) => states.get(n) === 'estopped')) { monitor.off('message', check); resolve(); } };
      monitor.on('message', check);
    }));
    out.push(performance.now() - t0);
    // The console e-stop reaches the hub on its persistent session, the release on its control
    // session: release only once the hub has taken the e-stop, as an operator would see it on the page.
    await waitFor('the hub e-stopped', hubHasEstop, 5000);
    // Released when every node says ready; a release the console's rate limit refused is pressed again.
    for (let tries = 1; ; tries++) {
      operator.publish(topic('bench', 'consoleRelease'), '', { qos: 1 });
      const released = await waitFor('nodes ready', () => nodes.every((n) => states.get(n) === 'ready'), 2000).catch(() => false);
      if (released) break;
      if (tries === 5) throw new Error(`the nodes stayed ${nodes.map((n) => states.get(n)).join(', ')} after ${tries} releases`);
    }
  }
  await monitor.endAsync();
  await operator.endAsync();
  return out;
}

async function run(brokerName: string, n: number, brokerUrl?: string) {
  const show = benchShow(n);
  const hub = new Hub({ show, brokerUrl, port: 0, logger: pino({ level: 'silent' }), journalDir: mkdtempSync(join(tmpdir(), 'kuroko-bench-')) });
  await hub.start();
  const nodes = show.cast.map((c) => c.node);
  process.stderr.write(`  ${brokerName}, ${n} nodes: starting node processes…\n`);
  const edges: ChildProcess[] = nodes.map((node) => spawnEdge('bench', node, hub.brokerUrl));
  await waitFor(`${n} nodes ready`, () => nodes.every((x) => hub.registry.get(x)?.state === 'ready'), 120000);
  await new Promise((r) => setTimeout(r, 500));
  process.stderr.write(`  ${brokerName}, ${n} nodes: measuring…\n`);
  censuses.push([`${brokerName}, ${n} nodes`, await trafficCensus(hub.brokerUrl, 'bench')]);
  const floor = await rawRoundTrip(hub.brokerUrl, CUES);
  process.stderr.write(`    floor done\n`);
  const cue = await cueLatency(hub, nodes, CUES);
  process.stderr.write(`    cue latency done\n`);
  const estop = await estopLatency(hub.brokerUrl, nodes, ESTOPS, () => hub.estopActive);
  process.stderr.write(`    e-stop done\n`);
  await Promise.all(edges.map(stopChild));
  await hub.stop();
  return { floor, cue, estop };
}

const censuses: [string, [string, string][]][] = [];
const rows: (string | number)[][] = [];
const estopRows: (string | number)[][] = [];
let pass = true;
const mosquitto = await startMosquitto();
try {
  for (const [name, url] of [['aedes', undefined], ['mosquitto', mosquitto.url]] as const) {
    for (const n of [4, 12]) {
      const r = await run(name, n, url);
      const added = percentile(r.cue, 99) - percentile(r.floor, 99);
      const ok = added <= 1;
      pass &&= ok;
      rows.push([name, n, fmt(percentile(r.floor, 50)), fmt(percentile(r.floor, 99)), fmt(percentile(r.cue, 50)), fmt(percentile(r.cue, 99)), fmt(added), ok ? 'PASS' : 'FAIL']);
      const e99 = percentile(r.estop, 99);
      const eok = n !== 12 || e99 <= 50;
      pass &&= eok;
      estopRows.push([name, n, fmt(percentile(r.estop, 50)), fmt(e99), n === 12 ? (eok ? 'PASS' : 'FAIL') : '(goal is for 12)']);
    }
  }
} finally {
  await mosquitto.stop();
}

console.log(`\nCue latency, hub → node → accepted ack (ms; ${CUES} cues each, one at a time)`);
console.log(table(['broker', 'nodes', 'floor p50', 'floor p99', 'kuroko p50', 'kuroko p99', 'added p99', 'goal ≤1 ms'], rows));
console.log(`\nE-stop, console/estop published → every node's state reads estopped (ms; ${ESTOPS} trips)`);
console.log(table(['broker', 'nodes', 'p50', 'p99', 'goal ≤50 ms p99'], estopRows));
console.log('\nWhere the time goes (1): CPU per step Kuroko adds to a cue\'s round trip (this process, after warm-up)');
console.log(table(['step', 'cost'], codecBreakdown()));
console.log('\nWhere the time goes (2): what each cue competes with on the broker while idle (messages/s by channel)');
for (const [name, rows2] of censuses) console.log(`${name}: ${rows2.map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log('Each cue also brings 3 acks (accepted, started, done) and, for a line, a transcript message.');
console.log(`\nfloor = raw mqtt.js QoS 1 publish → subscriber → publish back → subscriber, same broker, same run.`);
console.log(pass ? '\nAll goals met.' : '\nSome goals were not met (see FAIL above).');
