/**
 * npm run bench:fleet — the fleet's figures.
 *
 * 1. Three robots' computers on loopback (real agents as processes, a real hub, real node
 *    processes, test bundles made with the real bundle API): adopt time, update time per node
 *    (staged: one node, then two), a broken release's automatic rollback time, `fleet rollback`
 *    time, beside the same run's floor: a plain `kuroko edge` from start to `ready`.
 * 2. `-- --nodes 200`: N simulated nodes as real MQTT connections from this process (each with
 *    a Will, the node's subscriptions, birth, state and 1 Hz heartbeats) on Mosquitto, with the
 *    real hub in its own process: hub and broker CPU and memory, e-stop fan-out (console e-stop →
 *    each node receives the hub's estop) p50/p99, and heartbeat load — beside the same figures
 *    for 12 nodes (one show's size) in the same run.
 */
// Node processes keep their e-stop latch in a var dir of this run only: one left latched by an earlier run must not hold these e-stopped.
import '../helpers/isolated-var-dir.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { connect, type MqttClient } from 'mqtt';
import getPort from 'get-port';
import { encode, filter, topic } from '../../protocol/index.ts';
import { FleetStore } from '../../hub/fleet/store.ts';
import { adoptDuringWindow, rollbackFleet, updateFleet } from '../../hub/fleet/commands.ts';
import { NoCredentials } from '../../hub/fleet/credentials.ts';
import { getInfo } from '../../hub/fleet/agent-client.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { KUROKO, ROOT, SIM_PROFILE, waitFor } from '../helpers/stage.ts';
import { makeTestBundle, testKeys } from '../fleet/test-bundles.ts';
import { percentile, fmt, table } from './stats.ts';

const { values } = parseArgs({ options: { nodes: { type: 'string' }, 'skip-agents': { type: 'boolean', default: false }, estops: { type: 'string', default: '20' } }, strict: true });
const quiet = () => undefined;

function child(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  // An open bench on loopback (as the tests' stages): hub and nodes start without credentials only when told so.
  const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUROKO_LOG_FORMAT: 'json', KUROKO_INSECURE: '1', ...env } });
  c.stdout!.resume();
  c.stderr!.resume();
  return c;
}
async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill('SIGTERM');
  await Promise.race([new Promise((r) => c.once('exit', r)), new Promise((r) => setTimeout(r, 8000))]);
  if (c.exitCode === null) c.kill('SIGKILL');
}
const sec = (ms: number) => (ms / 1000).toFixed(1);

// ---- 1. three agents ---------------------------------------------------------------
async function agentsBench(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'kuroko-bench-fleet-'));
  const keys = testKeys();
  const procs: ChildProcess[] = [];
  try {
    const [v1, v2, v3] = await Promise.all([
      makeTestBundle(join(work, 'v1.tar.gz'), '1.0.0', 'working', keys.key),
      makeTestBundle(join(work, 'v2.tar.gz'), '2.0.0', 'working', keys.key),
      makeTestBundle(join(work, 'v3.tar.gz'), '3.0.0', 'crashes', keys.key),
    ]);
    const mqttPort = await getPort();
    const broker = `mqtt://127.0.0.1:${mqttPort}`;
    procs.push(child([KUROKO, 'hub', '--show', join(ROOT, 'test/fleet/fixtures/fleet-show.yaml'), '--port', String(mqttPort), '--http-port', '0', '--journal-dir', join(work, 'journal'), '--log-level', 'warn']));
    const watcher = connect(broker, { reconnectPeriod: 200 });
    const readyAt = new Map<string, number>();
    watcher.on('connect', () => watcher.subscribe(filter('fleet', 'nodeState', { node: '+' })));
    watcher.on('message', (t, p) => { try { if ((JSON.parse(String(p)) as { state: string }).state === 'ready') readyAt.set(t.split('/')[4]!, performance.now()); } catch { /* not ours */ } });
    await waitFor('hub broker', () => watcher.connected, 60_000, 100);

    // The floor: one plain node process from start to ready.
    const t0 = performance.now();
    const plain = child([KUROKO, 'edge', '--show', 'fleet', '--node', 'node-d', '--profile', SIM_PROFILE, '--broker', broker, '--no-model', '--log-level', 'warn']);
    await waitFor('plain node ready', () => readyAt.has('node-d'), 90_000, 20);
    const floorMs = readyAt.get('node-d')! - t0;
    await stop(plain);

    const ports = await Promise.all([0, 1, 2].map(() => getPort()));
    const names = ['robot-a', 'robot-b', 'robot-c'];
    for (const [i, name] of names.entries()) {
      const dir = join(work, name);
      const inst = child([KUROKO, 'node', 'install', '--bundle', v1, '--trust', keys.publicFile, '--dir', dir]);
      await new Promise((r) => inst.once('exit', r));
      procs.push(child([KUROKO, 'node', 'agent', '--dir', dir, '--name', name, '--bind', '127.0.0.1', '--port', String(ports[i]), '--no-mdns', '--health-timeout', '90', '--edge-arg=--no-model', '--edge-arg=--log-level=warn']));
    }
    const addresses = ports.map((port) => ({ host: '127.0.0.1', port }));
    await Promise.all(addresses.map((a) => waitFor('agent up', () => getInfo(a), 90_000, 200)));
    const store = new FleetStore(join(work, 'fleet'));
    const profileText = readFileSync(SIM_PROFILE, 'utf8');
    // The agents run on this machine: each one's pairing code is read from its folder.
    const plan = names.map((name, i) => ({ name, node: `node-${'abc'[i]}`, profileFile: SIM_PROFILE, profileText, codeFile: join(work, name, 'agent', 'pairing-code') }));
    const adopted = await adoptDuringWindow({ store, plan, show: 'fleet', broker, windowMs: 180_000, static: addresses, mdns: false, credentials: new NoCredentials(), say: quiet });
    const update = await updateFleet(store, { release: v2, force: false, say: quiet });
    const broken = await updateFleet(store, { release: v3, force: false, say: quiet, staged: false });
    const back = await rollbackFleet(store, { force: false, say: quiet });
    const rows = ['node-a', 'node-b', 'node-c'].map((n) => [
      n,
      sec(adopted.find((x) => x.node === n)?.ms ?? NaN),
      sec(update.find((x) => x.node === n)?.ms ?? NaN) + (n === 'node-a' ? ' (first)' : ''),
      `${sec(broken.find((x) => x.node === n)?.ms ?? NaN)} ${broken.find((x) => x.node === n)?.outcome}`,
      sec(back.find((x) => x.node === n)?.ms ?? NaN),
    ]);
    console.log('\nFleet of 3 on loopback (seconds; real agents, hub and node processes; test bundles)');
    console.log(table(['node', 'adopt', 'update v1→v2', 'broken v3 → auto rollback', 'fleet rollback'], rows));
    const updateWall = Math.max(...update.map((u) => u.ms)) + (update.find((u) => u.node === 'node-a')?.ms ?? 0);
    console.log(`floor (same run): kuroko edge start → ready ${sec(floorMs)} s; staged update of 3 nodes took ${sec(updateWall)} s wall (first node, then two together)`);
    console.log(`every adoption ok: ${adopted.every((a) => a.ok)}; every update committed: ${update.every((u) => u.outcome === 'committed')}; every broken update rolled back: ${broken.every((b) => b.outcome === 'rolled-back')}`);
    await watcher.endAsync();
  } finally {
    for (const p of procs.reverse()) await stop(p);
    rmSync(work, { recursive: true, force: true });
    rmSync(keys.dir, { recursive: true, force: true });
  }
}

// ---- 2. N simulated nodes on Mosquitto ----------------------------------------------
function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface ScaleFigures { n: number; hubCpu: number; hubRss: number; brokerCpu: number; brokerRss: number; p50: number; p99: number; allP99: number; floorP99: number; hbIn: number; hbOut: number; connectMs: number }

let reconnects = 0;

/** The floor: a plain QoS 1 publish to every simulated node, no hub in the path. */
const PING_TOPIC = 'kuroko/v1/fleet-bench/ping';
let onPing: (id: string) => void = () => undefined;

async function simNode(url: string, id: string, onEstop: (id: string, active: boolean) => void, onHub: () => void): Promise<MqttClient> {
  const c = connect(url, {
    clientId: `kuroko-fleet-node-${id}`, clean: true, keepalive: 30, reconnectPeriod: 1000,
    will: { topic: topic('fleet', 'nodeState', { node: id }), payload: Buffer.from(encode('nodeState', { v: 1, state: 'lost', reason: 'Will', bdSeq: 0, ts: Date.now() })), qos: 1, retain: true },
  });
  await new Promise<void>((r, j) => { c.once('connect', () => r()); c.once('error', j); });
  c.on('close', () => { reconnects++; });
  c.on('message', (t, p) => {
    if (t.endsWith('/hub/heartbeat')) onHub();
    else if (t.endsWith('/estop')) onEstop(id, p.includes('"active":true'));
    else if (t === PING_TOPIC) onPing(id);
  });
  await c.subscribeAsync([...['hubHeartbeat', 'hubState', 'estop', 'consoleEstop', 'nodeCue', 'nodeCmd'].map((n) => filter('fleet', n as 'estop', { node: id })), PING_TOPIC], { qos: 1 });
  c.publish(topic('fleet', 'nodeBirth', { node: id }), encode('nodeBirth', {
    v: 1, node: id, bdSeq: 0, software: { name: 'kuroko-edge', version: 'bench' }, platform: 'sim', hardware: 'sim', configHash: 'bench',
    capabilities: { actuators: [], sensors: [], gestures: [], voice: true, localModel: false }, ts: Date.now(),
  }), { qos: 1 });
  c.publish(topic('fleet', 'nodeState', { node: id }), encode('nodeState', { v: 1, state: 'ready', reason: 'bench', bdSeq: 0, ts: Date.now() }), { qos: 1, retain: true });
  return c;
}

async function scaleBench(n: number, estops: number): Promise<ScaleFigures> {
  const mosq = await startMosquitto();
  const hub = child([join(ROOT, 'bin/run-ts.js'), join(ROOT, 'test/bench/fleet-hub.ts'), String(n), mosq.url]);
  const clients: MqttClient[] = [];
  const timers: NodeJS.Timeout[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const t = setTimeout(() => reject(new Error('benchmark stuck: the hub did not start within 90 s')), 90_000);
      hub.stdout!.on('data', (d) => { out += d; if (out.includes('ready')) { clearTimeout(t); resolve(); } });
      hub.once('exit', (code) => { clearTimeout(t); reject(new Error(`the bench hub exited (${code})`)); });
    });
    let hbIn = 0;
    let hbOut = 0;
    let estopSeen = new Map<string, number>();
    const t0 = performance.now();
    for (let i = 0; i < n; i += 20) {
      const batch = await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, k) => simNode(mosq.url, `n${i + k + 1}`, (id, active) => { if (active && !estopSeen.has(id)) estopSeen.set(id, performance.now()); }, () => { hbIn++; })));
      clients.push(...batch);
    }
    const connectMs = performance.now() - t0;
    // 1 Hz node heartbeats, spread over the second like real nodes started at different times.
    clients.forEach((c, i) => {
      const id = `n${i + 1}`;
      let seq = 0;
      setTimeout(() => timers.push(setInterval(() => {
        hbOut++;
        c.publish(topic('fleet', 'nodeHeartbeat', { node: id }), encode('nodeHeartbeat', { v: 1, seq: seq++, state: 'ready', uptimeS: seq, clockOffsetMs: 0, hubAgeMs: 20, rssBytes: 100e6, ts: Date.now() }), { qos: 0 });
      }, 1000)), (i * 1000) / n);
    });
    const console_ = await connect(mosq.url, { reconnectPeriod: 0 });
    await new Promise((r) => console_.once('connect', r));
    await new Promise((r) => setTimeout(r, 3000)); // settle
    // Steady state: CPU and memory over 10 s, with heartbeats flowing both ways.
    const hubPid = hub.pid!;
    const c0 = { hub: cpuTicks(hubPid), broker: cpuTicks(mosq.pid()!), at: performance.now(), hbIn, hbOut };
    await new Promise((r) => setTimeout(r, 10_000));
    const secs = (performance.now() - c0.at) / 1000;
    const hubCpu = (cpuTicks(hubPid) - c0.hub) / secs; // ticks/s = % of one core
    const brokerCpu = (cpuTicks(mosq.pid()!) - c0.broker) / secs;
    const hubRss = rssMb(hubPid);
    const brokerRss = rssMb(mosq.pid()!);
    const inRate = (hbIn - c0.hbIn) / secs;
    const outRate = (hbOut - c0.hbOut) / secs;
    // E-stop fan-out: console e-stop → each node receives the hub's retained estop.
    const per: number[] = [];
    const all: number[] = [];
    const floorAll: number[] = [];
    for (let k = 0; k < estops; k++) {
      estopSeen = new Map();
      const sent = performance.now();
      console_.publish(topic('fleet', 'consoleEstop', {}), JSON.stringify({ reason: 'bench' }), { qos: 1 });
      await waitFor(`every node got the e-stop (${reconnects} connection losses so far)`, () => estopSeen.size >= n, 20_000, 1);
      const lat = [...estopSeen.values()].map((t) => t - sent);
      per.push(...lat);
      all.push(Math.max(...lat));
      console_.publish(topic('fleet', 'consoleRelease', {}), '', { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
      // The floor, same moment: the same fan-out without the hub.
      const pinged = new Map<string, number>();
      onPing = (id) => { if (!pinged.has(id)) pinged.set(id, performance.now()); };
      const ps = performance.now();
      console_.publish(PING_TOPIC, 'x', { qos: 1 });
      await waitFor('every node got the ping', () => pinged.size >= n, 20_000, 1);
      floorAll.push(Math.max(...[...pinged.values()].map((t) => t - ps)));
      await new Promise((r) => setTimeout(r, 100));
    }
    await console_.endAsync();
    if (reconnects) console.log(`note: ${reconnects} simulated connections dropped and reconnected during the ${n}-node run`);
    reconnects = 0;
    return { n, hubCpu, hubRss, brokerCpu, brokerRss, p50: percentile(per, 50), p99: percentile(per, 99), allP99: percentile(all, 99), floorP99: percentile(floorAll, 99), hbIn: inRate, hbOut: outRate, connectMs };
  } finally {
    for (const t of timers) clearInterval(t);
    await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
    reconnects = 0; // our own closing is not a lost connection
    await stop(hub);
    await mosq.stop();
  }
}

if (!values['skip-agents'] && !values.nodes) await agentsBench();
if (values.nodes) {
  const n = Number(values.nodes);
  if (!(Number.isInteger(n) && n >= 1 && n <= 5000)) throw new Error('--nodes must be 1..5000');
  const estops = Number(values.estops);
  const runs = [await scaleBench(12, estops), await scaleBench(n, estops)];
  console.log(`\nSimulated nodes on Mosquitto (real hub process; ${estops} e-stops each; same run)`);
  console.log(table(['nodes', 'connect all (ms)', 'hub CPU %', 'hub RSS MB', 'broker CPU %', 'broker RSS MB', 'e-stop p50 ms', 'e-stop p99 ms', 'last node p99 ms', 'floor: plain publish, last node p99 ms', 'hub heartbeats in/s', 'node heartbeats out/s'],
    runs.map((r) => [r.n, r.connectMs.toFixed(0), r.hubCpu.toFixed(1), r.hubRss.toFixed(0), r.brokerCpu.toFixed(1), r.brokerRss.toFixed(1), fmt(r.p50), fmt(r.p99), fmt(r.allP99), fmt(r.floorP99), r.hbIn.toFixed(0), r.hbOut.toFixed(0)])));
  const big = runs[1]!;
  console.log(`goal: e-stop reaches every one of ${big.n} nodes within 50 ms p99 → ${big.allP99 <= 50 ? 'PASS' : 'FAIL'} (${fmt(big.allP99)} ms; the same fan-out without the hub, same run: ${fmt(big.floorP99)} ms)`);
  console.log('all latencies are measured in the one process that holds every simulated node: its own queueing is in every figure, and in the floor.');
}
process.exit(0);
