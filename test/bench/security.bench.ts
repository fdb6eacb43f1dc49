/**
 * The price of a trusted stage (part of `npm run bench`): cue latency hub → node → accepted ack, and
 * e-stop fan-out console/estop → every node estopped, on the same broker in the same run, plain
 * (anonymous, no TLS, unsigned) against secured (passwords + ACLs, nodes over TLS, signed control
 * messages verified on every node). Goal: the secured stage adds at most 0.3 ms at p50.
 */
// Node processes keep their e-stop latch in a var dir of this run only: one left latched by an earlier run must not hold these e-stopped.
import '../helpers/isolated-var-dir.ts';
import { performance } from 'node:perf_hooks';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { connect, type MqttClient, type IClientOptions } from 'mqtt';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { newCueId } from '../../hub/playback.ts';
import type { ShowT } from '../../hub/show/schema.ts';
import { AccessStore } from '../../hub/access/store.ts';
import { mqttSecurityOptions, securityFromBundle } from '../../protocol/credentials.ts';
import { topic, filter } from '../../protocol/index.ts';
import { Signer, Verifier } from '../../protocol/signing.ts';
import { spawnEdge, stopChild, waitFor } from '../helpers/stage.ts';
import { startMosquitto, startSecureMosquitto } from '../helpers/mosquitto.ts';
import { percentile, fmt, table } from './stats.ts';
import { cueLatency, within } from './cue-probe.ts';

const CUES = Number(process.env.BENCH_SEC_CUES ?? 200);
const ESTOPS = Number(process.env.BENCH_SEC_ESTOPS ?? 20);
const NODES = Number(process.env.BENCH_SEC_NODES ?? 4);
const WARMUP = 20;

function benchShow(n: number): ShowT {
  const cast = Array.from({ length: n }, (_, i) => ({ id: `n${i + 1}`, name: `N${i + 1}`, node: `n${i + 1}` }));
  return { kuroko: 1, show: 'bench', title: 'bench', cast, scenes: [{ id: 's', cues: [{ id: 'c', kind: 'wait', duration: 0 }] }] };
}

async function client(url: string, o: IClientOptions): Promise<MqttClient> {
  const c = connect(url, { clean: true, reconnectPeriod: 0, ...o });
  await new Promise<void>((r, j) => { c.once('connect', () => r()); c.once('error', j); });
  return c;
}

async function estopFanOut(hub: Hub, url: string, nodes: string[], operator: IClientOptions, viewer: IClientOptions): Promise<number[]> {
  const s = { url };
  const monitor = await client(url, viewer);
  const states = new Map<string, string>();
  monitor.on('message', (t, p) => {
    try { states.set(t.split('/')[4]!, JSON.parse(p.toString()).state); } catch { /* ignore */ }
  });
  await monitor.subscribeAsync([filter('bench', 'nodeState'), filter('bench', 'error'), filter('bench', 'estop')], { qos: 1 });
  if (process.env.BENCH_SEC_DEBUG) monitor.on('message', (t, p, pk) => { if (!t.includes('/node/')) process.stderr.write(`    ${performance.now().toFixed(0)} ${t.split('/').slice(3).join('/')} ${pk.retain ? 'R ' : ''}${p.toString().slice(0, 200)}\n`); });
  if (process.env.BENCH_SEC_DEBUG) monitor.on('message', (t, p) => { if (t.includes('/node/')) process.stderr.write(`    ${performance.now().toFixed(0)} ${t.split('/').slice(3).join('/')} ${p.toString().slice(0, 80)}\n`); });
  monitor.on('message', (t, p) => { if (t.endsWith('/error')) process.stderr.write(`    error report: ${p.toString().slice(0, 300)}\n`); });
  const op = await client(url, operator);
  const out: number[] = [];
  for (let i = 0; i < ESTOPS; i++) {
    await waitFor('nodes ready', () => nodes.every((n) => states.get(n) === 'ready'), 10000).catch((e: Error) => { throw new Error(`${e.message}; node states ${JSON.stringify([...states])} on ${s.url}`); });
    const t0 = performance.now();
    op.publish(topic('bench', 'consoleEstop'), '', { qos: 1 });
    await within('every node to read estopped', 5000, new Promise<void>((resolve) => {
      const check = () => { if (nodes.every((n) => states.get(n) === 'estopped')) { monitor.off('message', check); resolve(); } };
      monitor.on('message', check);
    }));
    out.push(performance.now() - t0);
    // The release goes through the hub, signed, as it must — once the hub has the e-stop too.
    await waitFor('the hub to hold the e-stop', () => hub.estopActive, 5000);
    // Let the hub hear its own e-stop back before releasing (a release within a few ms of the e-stop
    // races the echo of the e-stop on Mosquitto; reported to the e-stop ledger's owner).
    await new Promise((r) => setTimeout(r, 300));
    const r = await hub.console.run('release');
    if (!r.ok) throw new Error(`release refused: ${r.message}`);
  }
  await waitFor('nodes ready', () => nodes.every((n) => states.get(n) === 'ready'), 10000);
  await monitor.endAsync();
  await op.endAsync();
  return out;
}

interface Stage { hub: Hub; edgeUrl: string; clientUrl: string; operator: IClientOptions; viewer: IClientOptions; credentials?: AccessStore; close(): Promise<void> }

async function measure(label: string, s: Stage) {
  const nodes = s.hub.o.show.cast.map((c) => c.node);
  process.stderr.write(`  ${label}: starting ${nodes.length} node processes…\n`);
  const edges: ChildProcess[] = nodes.map((n) => spawnEdge('bench', n, s.edgeUrl, s.credentials ? ['--credentials', s.credentials.bundleFile(n), '--no-model'] : ['--no-model']));
  try {
    await waitFor(`${nodes.length} nodes ready`, () => nodes.every((x) => s.hub.registry.get(x)?.state === 'ready'), 120000);
    await new Promise((r) => setTimeout(r, 500));
    const cue = await cueLatency(s.hub, nodes, CUES, WARMUP);
    const estop = await estopFanOut(s.hub, s.clientUrl, nodes, s.operator, s.viewer);
    return { cue, estop };
  } finally {
    await Promise.all(edges.map(stopChild));
    await s.close();
  }
}

const silent = pino({ level: 'silent' });
const journalDir = () => mkdtempSync(join(tmpdir(), 'kuroko-secbench-'));
const as = (store: AccessStore, id: string, url: string): IClientOptions => ({ ...mqttSecurityOptions(securityFromBundle(store.readBundle(id)), url) } as IClientOptions);

async function plainAedes(): Promise<Stage> {
  const hub = new Hub({ show: benchShow(NODES), port: 0, logger: silent, journalDir: journalDir() });
  await hub.start();
  return { hub, edgeUrl: hub.brokerUrl, clientUrl: hub.brokerUrl, operator: {}, viewer: {}, close: () => hub.stop() };
}

async function securedAedes(store: AccessStore): Promise<Stage> {
  const hub = new Hub({ show: benchShow(NODES), port: 0, logger: silent, journalDir: journalDir(), security: { store, tlsPort: 0, tlsHost: '127.0.0.1' } });
  await hub.start();
  const tls = hub.broker!.tlsUrl!;
  return { hub, edgeUrl: tls, clientUrl: tls, operator: as(store, 'operator', tls), viewer: as(store, 'viewer', tls), credentials: store, close: () => hub.stop() };
}

async function plainMosquitto(): Promise<Stage> {
  const m = await startMosquitto();
  const hub = new Hub({ show: benchShow(NODES), brokerUrl: m.url, logger: silent, journalDir: journalDir() });
  await hub.start();
  return { hub, edgeUrl: m.url, clientUrl: m.url, operator: {}, viewer: {}, close: async () => { await hub.stop(); await m.stop(); } };
}

async function securedMosquitto(store: AccessStore): Promise<Stage> {
  const m = await startSecureMosquitto(store.dir);
  const hub = new Hub({ show: benchShow(NODES), brokerUrl: m.tlsUrl, logger: silent, journalDir: journalDir(), security: { store } });
  await hub.start();
  return { hub, edgeUrl: m.tlsUrl, clientUrl: m.tlsUrl, operator: as(store, 'operator', m.tlsUrl), viewer: as(store, 'viewer', m.tlsUrl), credentials: store, close: async () => { await hub.stop(); await m.stop(); } };
}

/** The CPU cost of the signatures alone: sign on the hub + verify on a node, per message. */
function hmacCost(): { signUs: number; verifyUs: number } {
  const key = Buffer.alloc(32, 3);
  const t = topic('bench', 'nodeCue', { node: 'n1' });
  const body = JSON.stringify({ v: 1, id: newCueId(), scene: 's', seq: 1, at: 1, deadline: 2, ts: Date.now(), kind: 'wait', params: { durationMs: 0 } });
  const signer = new Signer(key);
  const verifier = new Verifier(key);
  const n = 20000;
  const signed: string[] = [];
  let t0 = performance.now();
  for (let i = 0; i < n; i++) signed.push(signer.sign(t, body));
  const signUs = ((performance.now() - t0) * 1000) / n;
  t0 = performance.now();
  for (const m of signed) verifier.verify(t, m);
  return { signUs, verifyUs: ((performance.now() - t0) * 1000) / n };
}

const store = await AccessStore.init(mkdtempSync(join(tmpdir(), 'kuroko-secbench-access-')), 'bench', benchShow(NODES).cast.map((c) => c.node));
const rows: (string | number)[][] = [];
let pass = true;
for (const [broker, plain, secured] of ([['aedes', plainAedes, () => securedAedes(store)], ['mosquitto', plainMosquitto, () => securedMosquitto(store)]] as const).filter(([b]) => !process.env.BENCH_SEC_BROKER || b === process.env.BENCH_SEC_BROKER)) {
  const p = await measure(`${broker} plain`, await plain());
  const s = await measure(`${broker} secured`, await secured());
  const added = percentile(s.cue, 50) - percentile(p.cue, 50);
  const ok = added <= 0.3;
  pass &&= ok;
  rows.push([broker, 'plain', fmt(percentile(p.cue, 50)), fmt(percentile(p.cue, 99)), fmt(percentile(p.estop, 50)), fmt(percentile(p.estop, 99)), '', '']);
  rows.push([broker, 'secured', fmt(percentile(s.cue, 50)), fmt(percentile(s.cue, 99)), fmt(percentile(s.estop, 50)), fmt(percentile(s.estop, 99)), fmt(added), ok ? 'PASS' : 'FAIL']);
}

console.log(`\nSecurity overhead, ${NODES} nodes (ms; ${CUES} cues one at a time, ${ESTOPS} e-stops; same run)`);
console.log(table(['broker', 'stage', 'cue p50', 'cue p99', 'e-stop p50', 'e-stop p99', 'added cue p50', 'goal ≤0.3 ms'], rows));
console.log('\nplain = anonymous, no TLS, unsigned; secured = user names + ACLs, nodes over TLS (and the hub too on Mosquitto), HMAC-signed cues, cmds and heartbeats verified on each node.');
const h = hmacCost();
console.log(`HMAC alone: sign ${h.signUs.toFixed(1)} µs + verify ${h.verifyUs.toFixed(1)} µs per control message (20,000 cue payloads).`);
console.log(pass ? '\nThe security overhead goal is met.' : '\nThe security overhead goal was not met (see FAIL above).');
