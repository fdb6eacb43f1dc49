/**
 * The one MQTT endpoint, on both real brokers (aedes in process and Mosquitto): typed publish and
 * handlers, retained vs live, refusals on the error channel, message hooks, the Will, reconnect
 * after a broker restart, and a bounded stop with no broker at all.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connect } from 'mqtt';
import { Endpoint, type MessageContext } from '../../protocol/endpoint.ts';
import { topic, type EstopT, type ErrorReportT, type NodeStateT } from '../../protocol/index.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../hub/broker.ts';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.ts';
import { waitFor, sleep } from '../helpers/wait.ts';

const SHOW = 'ept';
let n = 0;
const ep = (url: string, extra: Partial<ConstructorParameters<typeof Endpoint>[0]> = {}) =>
  new Endpoint({ url, show: SHOW, clientId: `ept-${process.pid}-${n++}`, reporter: 'hub', connectWaitMs: 5000, reconnectMs: 100, ...extra });
const estop = (active: boolean): EstopT => ({ v: 1, active, source: 'test', ts: Date.now() });

type Broker = { url: string; close(): Promise<void>; restart?: () => Promise<void>; kill?: (s: NodeJS.Signals) => Promise<void> };
const brokers: [string, () => Promise<Broker>][] = [
  ['aedes', async () => { const b: EmbeddedBroker = await startEmbeddedBroker(0, '127.0.0.1'); return { url: b.url, close: () => b.close() }; }],
  ['Mosquitto', async () => { const m: RunningMosquitto = await startMosquitto(); return { url: m.url, close: () => m.stop(), restart: () => m.restart(), kill: (s) => m.kill(s) }; }],
];

describe.each(brokers)('the endpoint on %s', (_name, start) => {
  let broker: Broker;
  const open: Endpoint[] = [];
  const make = async (extra: Partial<ConstructorParameters<typeof Endpoint>[0]> = {}, setup?: (e: Endpoint) => void) => {
    const e = ep(broker.url, extra);
    setup?.(e);
    await e.start();
    open.push(e);
    return e;
  };
  beforeAll(async () => { broker = await start(); });
  afterAll(async () => {
    await Promise.all(open.map((e) => e.stop()));
    await broker.close();
  });

  it('delivers typed payloads to their handler, and tells a retained value from a live message', async () => {
    const a = await make();
    a.publish('estop', {}, estop(false));
    await sleep(100);
    const got: [EstopT, MessageContext][] = [];
    await make({}, (b) => b.handle('estop', (m, ctx) => got.push([m, ctx])));
    await waitFor('the retained estop', () => got.length === 1);
    expect(got[0]![1].retained).toBe(true);
    a.publish('estop', {}, estop(true));
    await waitFor('the live estop', () => got.length === 2);
    expect(got[1]![0].active).toBe(true);
    expect(got[1]![1].retained).toBe(false);
    expect(() => a.publish('estop', {}, { v: 1, active: 'yes' } as never)).toThrow(/refusing to publish an invalid estop payload/);
  });

  it('refuses a bad payload on the error channel (reporter, reason, onReject) and survives a throwing handler', async () => {
    const errors: ErrorReportT[] = [];
    await make({}, (w) => w.handle('error', (m) => errors.push(m)));
    const refused: string[] = [];
    const b = await make({ reporter: 'node/bob' }, (e) => {
      e.handle('nodeCmd', () => { throw new Error('boom'); }, { params: { node: 'bob' } });
      e.handle('consoleGo', () => undefined, { onReject: (err) => refused.push(err) });
    });
    const raw = connect(broker.url);
    await new Promise((r) => raw.once('connect', r));
    raw.publish(topic(SHOW, 'consoleGo'), '{not json', { qos: 1 });
    raw.publish(topic(SHOW, 'nodeCmd', { node: 'bob' }), JSON.stringify({ v: 1, cmd: 'arm', ts: 1 }), { qos: 1 });
    await waitFor('two error reports', () => errors.length >= 2);
    expect(errors.find((e) => e.topic.endsWith('console/go'))).toMatchObject({ reporter: 'node/bob', error: expect.stringMatching(/not valid JSON/) });
    expect(errors.find((e) => e.topic.endsWith('node/bob/cmd'))).toMatchObject({ error: expect.stringMatching(/internal error while handling it: boom/) });
    expect(refused).toHaveLength(1);
    expect(b.rejected.count).toBe(2);
    await raw.endAsync();
  });

  it('runs every message in and out through the hooks (where signing will live)', async () => {
    const sign = { outgoing: (m: { payload: string | Buffer }) => ({ ...m, payload: `${m.payload}|sig` }) as never };
    const verify = {
      incoming: (m: { payload: string | Buffer }) => String(m.payload).endsWith('|sig')
        ? { ok: true as const, payload: String(m.payload).slice(0, -4) }
        : { ok: false as const, error: 'unsigned message' },
    };
    const got: EstopT[] = [];
    const errors: ErrorReportT[] = [];
    await make({}, (w) => w.handle('error', (m) => errors.push(m)));
    await make({ hooks: [verify] }, (e) => e.handle('consoleEstop', (m) => got.push(m as EstopT)));
    const signer = await make({ hooks: [sign] });
    signer.publish('consoleEstop', {}, { reason: 'signed' });
    await waitFor('the signed message', () => got.length === 1);
    const raw = connect(broker.url);
    await new Promise((r) => raw.once('connect', r));
    raw.publish(topic(SHOW, 'consoleEstop'), '{}', { qos: 1 });
    await waitFor('the refusal', () => errors.some((e) => e.error === 'unsigned message'));
    expect(got).toHaveLength(1);
    await raw.endAsync();
  });

  it('publishes the Will (recomputed per session) when the connection dies, and the farewell on stop', async () => {
    const states: NodeStateT[] = [];
    await make({}, (w) => w.handle('nodeState', (m) => states.push(m)));
    let bdSeq = 0;
    const node = await make({ keepaliveS: 1, will: () => ({ channel: 'nodeState', params: { node: 'w' }, payload: { v: 1, state: 'lost', reason: 'will', bdSeq, ts: 1 } }) });
    node.on('close', () => { bdSeq++; });
    // Cut the socket without a DISCONNECT: the broker publishes the Will.
    (node as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    await waitFor('the Will', () => states.some((s) => s.reason === 'will'), 8000);
    await waitFor('reconnected', () => node.connected, 8000);
    await node.stop({ channel: 'nodeState', params: { node: 'w' }, payload: { v: 1, state: 'lost', reason: 'bye', bdSeq, ts: 2 } });
    await waitFor('the farewell', () => states.some((s) => s.reason === 'bye'));
    expect(states.find((s) => s.reason === 'bye')!.bdSeq).toBe(1);
  });

  it('reconnects and resubscribes after a broker restart; stop is bounded with no broker', async () => {
    if (!broker.restart) return; // the embedded broker lives in this process; its restart is the hub's own
    const got: EstopT[] = [];
    const b = await make({}, (e) => e.handle('consoleEstop', (m) => got.push(m as EstopT)));
    const a = await make();
    await broker.kill!('SIGKILL');
    await waitFor('disconnected', () => !b.connected);
    await broker.restart();
    await waitFor('both reconnected', () => a.connected && b.connected, 8000);
    a.publish('consoleEstop', {}, {});
    await waitFor('a message after the restart', () => got.length === 1);
    await broker.kill!('SIGKILL');
    const t0 = Date.now();
    await Promise.all([a.stop(), b.stop()]);
    expect(Date.now() - t0).toBeLessThan(2000);
    await broker.restart();
  });
});

describe('the endpoint without a broker', () => {
  it('names the broker when it cannot connect, and stops at once', async () => {
    const e = ep('mqtt://127.0.0.1:9', { connectWaitMs: 500, hint: '(start the hub)' });
    await expect(e.start()).rejects.toThrow(/could not reach the broker at mqtt:\/\/127.0.0.1:9 within 0.5 s; is it running\? \(start the hub\)/);
    const t0 = Date.now();
    await e.stop();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
