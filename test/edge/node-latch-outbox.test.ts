/**
 * A real edge node (simulated hardware) on a real broker — aedes in this process, and Mosquitto —
 * with a stand-in hub (an MQTT client sending heartbeats, stamped e-stops and releases, as the hub
 * does): the e-stop latch survives a node restart; a retained release, stale after a broker crash,
 * is never obeyed; only a live, newer release is. And what the node performed while the broker was
 * down (transcript, acks) arrives when it returns, with its original show-clock times.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Aedes } from 'aedes';
import getPort from 'get-port';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { loadProfile } from '../../firmware-config/profile.ts';
import { SimHardware } from '../../edge/hardware/sim.ts';
import { SimVoice } from '../../edge/voice/sim-voice.ts';
import { EdgeNode } from '../../edge/node.ts';
import { Outbox } from '../../edge/outbox.ts';
import { UnjournaledLines } from '../../edge/unjournaled-lines.ts';
import { newCueId } from '../../hub/playback.ts';
import { encode, topic, type ChannelName, type PayloadOf } from '../../protocol/index.ts';
import { ROOT } from '../helpers/stage.ts';
import { waitFor, sleep } from '../helpers/wait.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';

const PROFILE = loadProfile(join(ROOT, 'firmware-config/profiles/sim-robot.yaml'));
const SHOW = 'latch';
const log = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => { for (const c of cleanups.splice(0).reverse()) await c(); });

interface Heard { topic: string; payload: Record<string, unknown>; at: number }

/** aedes on a given port, with a recorder inside the broker (it hears everything from the first byte). */
async function aedesOn(port: number, heard: Heard[]): Promise<{ close(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  await new Promise<void>((r) => broker.subscribe(`kuroko/v1/${SHOW}/#`, (packet, cb) => {
    heard.push({ topic: packet.topic, payload: JSON.parse(packet.payload.toString() || 'null'), at: Date.now() });
    cb();
  }, r));
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); broker.handle(s); });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  let closed = false;
  return {
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

/** A stand-in hub: heartbeats with the show clock, and e-stops/releases with the agreed stamp. */
function standInHub(url: string) {
  const client: MqttClient = connect(url, { reconnectPeriod: 200, clean: true });
  const t0 = performance.now();
  const showNow = () => performance.now() - t0 + 100_000;
  let seq = 0;
  const beat = setInterval(() => {
    if (client.connected) client.publish(topic(SHOW, 'hubHeartbeat'), encode('hubHeartbeat', { v: 1, seq: seq++, epoch: 'e1', showTime: showNow(), ts: Date.now() }));
  }, 100);
  const pub = <N extends ChannelName>(name: N, params: Record<string, string>, payload: PayloadOf<N>, retain = false) =>
    client.publishAsync(topic(SHOW, name, params), encode(name, payload), { qos: 1, retain });
  return {
    client, showNow, pub,
    estop: (active: boolean, epoch: number, s: number) => pub('estop', {}, { v: 1, active, source: 'console', stamp: { epoch, seq: s }, ts: Date.now() }, true),
    close: async () => { clearInterval(beat); await client.endAsync(true); },
  };
}

function startNode(url: string, latchFile: string | null) {
  const node = new EdgeNode({ show: SHOW, node: 'ann', character: 'ann', brokerUrl: url, profile: PROFILE, hardware: new SimHardware(PROFILE.profile), voice: new SimVoice(45), logger: log, latchFile, watchdogMs: 400 });
  return node;
}

const brokers: [string, () => Promise<{ url: string; stop(): Promise<void> }>][] = [
  ['aedes', async () => { const port = await getPort(); const b = await aedesOn(port, []); return { url: `mqtt://127.0.0.1:${port}`, stop: () => b.close() }; }],
  ['Mosquitto', async () => { const m = await startMosquitto(); return { url: m.url, stop: () => m.stop() }; }],
];

describe.each(brokers)('the e-stop latch on a real node (%s)', (_name, startBroker) => {
  it('survives a node restart; a retained (stale) release is refused; only a live, newer release is obeyed', async () => {
    const broker = await startBroker();
    cleanups.push(() => broker.stop());
    const hub = standInHub(broker.url);
    cleanups.push(() => hub.close());
    const latchFile = join(mkdtempSync(join(tmpdir(), 'kuroko-var-')), 'edge', SHOW, 'ann', 'estop-latch.json');
    let node = startNode(broker.url, latchFile);
    cleanups.push(() => node.stop());
    await node.start();
    await waitFor('ready', () => node.gate.state === 'ready', 10_000);

    await hub.estop(true, 1, 1);
    await waitFor('e-stopped', () => node.gate.state === 'estopped', 5000);
    await hub.estop(false, 1, 2); // a live release: obeyed
    await waitFor('released', () => node.gate.state === 'ready', 5000);
    await hub.estop(true, 1, 3);
    await waitFor('e-stopped again', () => node.gate.state === 'estopped', 5000);
    expect(JSON.parse(readFileSync(latchFile, 'utf8'))).toMatchObject({ latched: true, newestEstop: { epoch: 1, seq: 3 } });

    // The broker's retained store goes back to the older release (what a broker restored from an old
    // snapshot serves). Delivered live, its stamp is too old; delivered retained, it is never obeyed.
    await hub.estop(false, 1, 2);
    await sleep(300);
    expect(node.gate.state).toBe('estopped');
    await node.stop('restart');
    node = startNode(broker.url, latchFile); // the node restarts: the retained release arrives first
    await node.start();
    expect(node.gate.state).toBe('estopped');
    await sleep(500);
    expect(node.gate.state).toBe('estopped');
    expect(node.gate.arm().ok).toBe(false);

    await hub.estop(false, 1, 4); // the operator releases again, live and newer
    await waitFor('released by the new release', () => node.gate.state === 'ready', 5000);
    expect(JSON.parse(readFileSync(latchFile, 'utf8')).latched).toBe(false);
    await hub.pub('nodeCmd', { node: 'ann' }, { v: 1, cmd: 'arm', ts: Date.now() });
    await waitFor('armed', () => node.gate.state === 'armed', 5000);
  }, 60_000);
});

describe('an e-stop from any source, with or without the hub', () => {
  it('with no hub at all: the console e-stop and the node\'s own button both latch, on disk', async () => {
    const port = await getPort();
    const broker = await aedesOn(port, []);
    cleanups.push(() => broker.close());
    const url = `mqtt://127.0.0.1:${port}`;
    const latchFile = join(mkdtempSync(join(tmpdir(), 'kuroko-var-')), 'estop-latch.json');
    const hardware = new SimHardware(PROFILE.profile);
    const node = new EdgeNode({ show: SHOW, node: 'ann', brokerUrl: url, profile: PROFILE, hardware, voice: new SimVoice(45), logger: log, latchFile });
    cleanups.push(() => node.stop());
    await node.start();
    expect(node.gate.state).toBe('init'); // no hub heartbeat has ever arrived
    const consoleClient = connect(url);
    cleanups.push(() => consoleClient.endAsync(true));
    await new Promise((r) => consoleClient.once('connect', r));
    await consoleClient.publishAsync(topic(SHOW, 'consoleEstop'), '', { qos: 1 }); // as mosquitto_pub -n would
    await waitFor('e-stopped by the console, hub or not', () => node.gate.state === 'estopped', 5000);
    expect(JSON.parse(readFileSync(latchFile, 'utf8'))).toMatchObject({ latched: true, source: 'console' });
    // The GPIO button (its debounced input event: the last inch, no GPIO here) on a fresh latch.
    const f2 = join(mkdtempSync(join(tmpdir(), 'kuroko-var-')), 'estop-latch.json');
    const hw2 = new SimHardware(PROFILE.profile);
    const node2 = new EdgeNode({ show: SHOW, node: 'ben', brokerUrl: url, profile: PROFILE, hardware: hw2, voice: new SimVoice(45), logger: log, latchFile: f2 });
    cleanups.push(() => node2.stop());
    await node2.start();
    hw2.emit('estop-input', true);
    expect(node2.gate.state).toBe('estopped');
    expect(JSON.parse(readFileSync(f2, 'utf8'))).toMatchObject({ latched: true, source: 'button' });
  }, 30_000);
});

/** An aedes broker with a recorder, a stand-in hub and a node on it, ready and in sync with the show clock. */
async function liveStage() {
  const port = await getPort();
  const url = `mqtt://127.0.0.1:${port}`;
  const heard: Heard[] = [];
  const stage = { port, url, heard, broker: await aedesOn(port, heard), hub: standInHub(url), node: startNode(url, null) };
  cleanups.push(() => stage.broker.close(), () => stage.hub.close(), () => stage.node.stop());
  await stage.node.start();
  await waitFor('ready', () => stage.node.gate.state === 'ready' && stage.node.clock.synced, 10_000);
  return stage;
}

describe('nothing performed is lost', () => {
  it('a line performed while the broker is down arrives on reconnect, with its original show-clock times', async () => {
    const stage = await liveStage();
    const { port, heard, hub, node } = stage;
    const at = hub.showNow() + 2000;
    const id = newCueId();
    await hub.pub('nodeCue', { node: 'ann' }, { v: 1, id, scene: 's', seq: 0, at, deadline: at + 2000, ts: Date.now(), kind: 'line', params: { character: 'ann', text: 'A line spoken while nobody could hear the node.' } });
    await waitFor('the node has the cue', () => node.executor.runningCount > 0, 5000);
    await stage.broker.close(); // the broker goes down before the line starts
    const downAt = Date.now();
    expect(hub.showNow(), 'the broker must go down before the line starts (a loaded machine?)').toBeLessThan(at);
    await waitFor('the line spoken and done while the broker is away', () => node.executor.runningCount === 0 && node.outbox.size >= 3, 15_000);
    stage.broker = await aedesOn(port, heard);
    const line = await waitFor('the transcript line, late', () => heard.find((h) => h.topic.endsWith('/transcript')), 10_000);
    await waitFor('started and done acks', () => ['started', 'done'].every((st) => heard.some((h) => h.topic.endsWith('/cue/ack') && h.payload.status === st)), 5000);
    const started = heard.find((h) => h.payload.status === 'started')!;
    const done = heard.find((h) => h.payload.status === 'done')!;
    // Performed on time by the show clock, sent late, marked with how long it waited.
    expect(Math.abs((line.payload.startShowTime as number) - at)).toBeLessThan(300);
    expect(Math.abs((started.payload.showTime as number) - at)).toBeLessThan(300);
    expect(line.payload.delayedMs).toBeGreaterThan(0);
    expect(done.payload.delayedMs).toBeGreaterThan(0);
    expect(line.payload.ts as number).toBeLessThan(line.at);
    expect(line.payload.ts as number).toBeGreaterThan(downAt);
    // In order: started before done; and nothing was dropped.
    expect(heard.indexOf(started)).toBeLessThan(heard.indexOf(done));
    expect(node.outbox.dropped).toBe(0);
    const hb = await waitFor('a heartbeat with the dropped count', () => heard.find((h) => h.topic.endsWith('/ann/heartbeat') && h.at > line.at), 5000);
    expect(hb.payload.queueDropped).toBe(0);
    expect(hb.payload.refusedWrites).toBe(0);
  }, 60_000);

  it('the queue is bounded: the oldest items are dropped and counted, the rest go out in order', () => {
    let up = false;
    const sent: [number, number][] = [];
    let now = 0;
    const box = new Outbox<number>({ limit: 3, connected: () => up, send: (n, delayed) => sent.push([n, delayed]), now: () => now });
    for (let i = 1; i <= 5; i++) { now += 10; box.offer(i); }
    expect(box.dropped).toBe(2);
    expect(box.size).toBe(3);
    now = 100;
    up = true;
    expect(box.flush()).toBe(3);
    expect(sent).toEqual([[3, 70], [4, 60], [5, 50]]);
    box.offer(6);
    expect(sent.at(-1)).toEqual([6, 0]);
  });

  it('a line the broker took but no hub journaled is sent again when a hub comes online, until the hub confirms it', async () => {
    // The embedded broker lives in the hub: a hub killed after its broker acked a line, before it
    // wrote the line down, leaves the node the only holder of that line.
    const { heard, hub, node } = await liveStage();
    const at = hub.showNow() + 300;
    await hub.pub('nodeCue', { node: 'ann' }, { v: 1, id: newCueId(), scene: 's', seq: 0, at, deadline: at + 2000, ts: Date.now(), kind: 'line', params: { character: 'ann', text: 'Nobody wrote this down.' } });
    const lines = () => heard.filter((h) => h.topic.endsWith('/transcript'));
    const first = await waitFor('the line, sent once', () => lines()[0], 10_000);
    expect(first.payload.seq).toBe(0);
    expect(node.unjournaled.size).toBe(1);
    await sleep(600);
    // A hub (re)starts: the line goes out again, the same line (seq, ts, text), and stays kept.
    await hub.pub('hubState', {}, { v: 1, status: 'online', epoch: 'e2', show: SHOW, version: '0', ts: Date.now() }, true);
    await waitFor('the line sent again', () => lines().length === 2, 5000);
    expect(lines()[1]!.payload).toEqual(first.payload);
    expect(node.unjournaled.size).toBe(1);
    // A receipt for another run of this node (same seq, other line) changes nothing; the right one ends it.
    await hub.pub('nodeJournaled', { node: 'ann' }, { v: 1, seq: 0, lineTs: (first.payload.ts as number) - 1, ts: Date.now() });
    await sleep(200);
    expect(node.unjournaled.size).toBe(1);
    await hub.pub('nodeJournaled', { node: 'ann' }, { v: 1, seq: 0, lineTs: first.payload.ts as number, ts: Date.now() });
    await waitFor('confirmed', () => node.unjournaled.size === 0, 5000);
    await sleep(600);
    await hub.pub('hubState', {}, { v: 1, status: 'online', epoch: 'e3', show: SHOW, version: '0', ts: Date.now() }, true);
    await sleep(500);
    expect(lines()).toHaveLength(2);
  }, 60_000);

  it('kept lines: numbered, confirmed only by seq and ts together, resent oldest first and not before their time, bounded', () => {
    let now = 0;
    const kept = new UnjournaledLines({ limit: 2, now: () => now });
    const line = (text: string) => ({ v: 1 as const, node: 'ann', character: 'ann', text, scene: null, cue: null, source: 'hub' as const, startShowTime: 0, durationMs: 1, ts: 1000 + now });
    const a = kept.keep(line('a'));
    now = 10;
    const b = kept.keep(line('b'));
    expect([a.seq, b.seq]).toEqual([0, 1]);
    expect(kept.resend(50)).toEqual([]);
    now = 55;
    expect(kept.resend(50).map((l) => l.text)).toEqual(['a']);
    now = 70;
    expect(kept.resend(50).map((l) => l.text)).toEqual(['b']); // 'a' was just sent again
    expect(kept.journaled(0, 999)).toBe(false);
    expect(kept.journaled(0, a.ts)).toBe(true);
    expect(kept.journaled(0, a.ts)).toBe(false);
    now = 80;
    kept.keep(line('c'));
    kept.keep(line('d')); // over the limit: the oldest ('b') goes, counted
    expect(kept.dropped).toBe(1);
    now = 1000;
    expect(kept.resend(0).map((l) => l.text)).toEqual(['c', 'd']);
  });
});
