/**
 * One table, two brokers: role × channel × publish/receive → allowed or denied, checked for real on
 * the embedded broker (aedes hooks) and on Mosquitto (passwd + acl files written by kuroko access).
 * The expectations are written out by hand here, not derived, so the test can catch the derivation.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { MqttClient } from 'mqtt';
import { CHANNELS, type ChannelName } from '../../protocol/topics.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../hub/broker.ts';
import type { AccessStore } from '../../hub/access/store.ts';
import { startSecureMosquitto, type RunningSecureMosquitto } from '../helpers/mosquitto.ts';
import { tempStore, clientAs } from '../helpers/access.ts';

const SHOW = 't';
const ME = 'kenzaki';
const OTHER = 'tachibana';
type Who = 'hub' | 'node' | 'operator' | 'viewer';

/** Publishers of each channel (for node channels: the node itself, on its own topics). */
const PUBLISH: Record<ChannelName, Who[]> = {
  hubState: ['hub'], hubHeartbeat: ['hub'], nodeCue: ['hub'], nodeCmd: ['hub'], nodeJournaled: ['hub'], estop: ['hub'], showState: ['hub'],
  hubEvent: ['hub'], consoleReply: ['hub'], error: ['hub', 'node'],
  nodeState: ['node'], nodeBirth: ['node'], nodeHeartbeat: ['node'], nodeCueAck: ['node'], nodeTelemetry: ['node'], nodeEvent: ['node'], transcript: ['node'],
  consoleSceneStart: ['operator'], consoleGo: ['operator'], consoleStop: ['operator'], consoleArm: ['operator'], consoleDisarm: ['operator'],
  consoleEstop: ['operator'], consoleRelease: ['operator'], consoleNextSpeaker: ['operator'], consoleCouncilAsk: ['operator'], consoleCouncilAgent: ['operator'],
};
/** What a node receives (its own copy of node/{id}/ channels); hub, operator and viewer receive everything. */
const NODE_RECEIVES: ChannelName[] = ['hubState', 'hubHeartbeat', 'nodeCue', 'nodeCmd', 'nodeJournaled', 'estop', 'transcript', 'consoleEstop',
  // and what the node's agent reads with the node's credentials: its own state and heartbeats, the show state (the show lock).
  'nodeState', 'nodeHeartbeat', 'showState'];

const NAMES = Object.keys(CHANNELS) as ChannelName[];
const IDENT: Record<Who, string> = { hub: 'hub', node: ME, operator: 'operator', viewer: 'viewer' };

function topicOf(name: ChannelName, node = ME): string {
  return `kuroko/v1/${SHOW}/${CHANNELS[name].pattern.replace('{node}', node).replace('{sensor}', 'temp').replace('{kind}', 'x')}`;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function publishOnce(url: string, store: AccessStore, id: string, t: string, payload: string): Promise<void> {
  const c = await clientAs(url, store, id);
  c.on('error', () => undefined);
  // QoS 0: aedes disconnects a client whose publish it refuses, Mosquitto drops it silently; either way nothing is delivered.
  await new Promise<void>((r) => c.publish(t, payload, { qos: 0 }, () => r()));
  await sleep(5);
  await c.endAsync(true).catch(() => undefined);
}

function matrix(name: string, start: (store: AccessStore) => Promise<{ url: string; tlsUrl?: string; stop(): Promise<void> }>) {
  describe(`ACL matrix on ${name}`, () => {
    let store: AccessStore;
    let broker: { url: string; tlsUrl?: string; stop(): Promise<void> };
    beforeAll(async () => {
      store = await tempStore(SHOW, [ME, OTHER]);
      broker = await start(store);
    });
    afterAll(async () => { await broker?.stop(); });

    it('refuses anonymous clients and wrong passwords', async () => {
      await expect(clientAs(broker.url, null, null)).rejects.toThrow(/Not authorized|Bad username or password|refused/i);
      await expect(clientAs(broker.url, null, null, { username: 'operator', password: 'guess' })).rejects.toThrow(/Not authorized|Bad username or password|refused/i);
      const c = await clientAs(broker.url, store, 'operator');
      await c.endAsync();
    });

    it('publish: each role reaches exactly the channels the table gives it', async () => {
      const observer = await clientAs(broker.url, store, 'hub');
      const got = new Set<string>();
      observer.on('message', (_t, p) => got.add(p.toString()));
      await observer.subscribeAsync(`kuroko/v1/${SHOW}/#`, { qos: 0 });
      const expected: string[] = [];
      const tried: string[] = [];
      for (const who of Object.keys(IDENT) as Who[]) {
        for (const ch of NAMES) {
          const marker = `${who}:${ch}`;
          tried.push(marker);
          if (PUBLISH[ch].includes(who)) expected.push(marker);
          await publishOnce(broker.url, store, IDENT[who], topicOf(ch), marker);
          // A node never publishes under another node's id.
          if (who === 'node' && CHANNELS[ch].pattern.includes('{node}')) {
            tried.push(`${marker}:other`);
            await publishOnce(broker.url, store, ME, topicOf(ch, OTHER), `${marker}:other`);
          }
        }
      }
      await sleep(500);
      await observer.endAsync();
      const received = tried.filter((m) => got.has(m));
      expect(received.sort()).toEqual(expected.sort());
    });

    it('receive: nodes get only what nodes need, under their own id; the others read the show', async () => {
      const subs: Record<Who, { c: MqttClient; got: Set<string> }> = {} as never;
      for (const who of Object.keys(IDENT) as Who[]) {
        const c = await clientAs(broker.url, store, IDENT[who]);
        const got = new Set<string>();
        c.on('message', (_t, p) => got.add(p.toString()));
        // A wildcard never widens access: the node subscribes to the whole show too.
        // One filter at a time: a refused one (aedes answers 0x80) must not take the others with it.
        for (const f of new Set([`kuroko/v1/${SHOW}/#`, ...NAMES.map((n) => topicOf(n)), ...NAMES.map((n) => topicOf(n, OTHER))])) {
          await c.subscribeAsync(f, { qos: 0 }).catch(() => undefined);
        }
        subs[who] = { c, got };
      }
      const publisherOf = (ch: ChannelName, node: string) => (PUBLISH[ch][0] === 'node' ? node : IDENT[PUBLISH[ch][0]!]);
      for (const ch of NAMES) {
        await publishOnce(broker.url, store, publisherOf(ch, ME), topicOf(ch), `mine:${ch}`);
        if (CHANNELS[ch].pattern.includes('{node}')) await publishOnce(broker.url, store, publisherOf(ch, OTHER), topicOf(ch, OTHER), `other:${ch}`);
      }
      await sleep(500);
      const all = NAMES.flatMap((ch) => [`mine:${ch}`, ...(CHANNELS[ch].pattern.includes('{node}') ? [`other:${ch}`] : [])]);
      for (const who of ['hub', 'operator', 'viewer'] as const) expect([...subs[who].got].sort(), who).toEqual([...all].sort());
      expect([...subs.node.got].sort()).toEqual(NODE_RECEIVES.map((ch) => `mine:${ch}`).sort());
      for (const s of Object.values(subs)) await s.c.endAsync();
    });

    it('serves the same rules over TLS with the show CA', async () => {
      const c = await clientAs(broker.tlsUrl!, store, 'operator');
      expect(c.connected).toBe(true);
      await c.endAsync();
      await expect(clientAs(broker.tlsUrl!, store, 'operator', { ca: undefined, rejectUnauthorized: true })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
    });
  });
}

matrix('the embedded broker (aedes)', async (store) => {
  const b: EmbeddedBroker = await startEmbeddedBroker({ port: 0, security: { store, tlsPort: 0, tlsHost: '127.0.0.1' } });
  return { url: b.url, tlsUrl: b.tlsUrl, stop: () => b.close() };
});

matrix('Mosquitto', async (store) => {
  const m: RunningSecureMosquitto = await startSecureMosquitto(store.dir);
  return { url: m.url, tlsUrl: m.tlsUrl, stop: () => m.stop() };
});
