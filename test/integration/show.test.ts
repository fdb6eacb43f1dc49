/**
 * A show end to end over real brokers — aedes in process and a real Mosquitto — with the hub in
 * this process, four edge nodes as real child processes, and the real mosquitto_pub binary as
 * the operator's console.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startStage, recorder, waitFor, spawnEdge, ROOT, type Stage } from '../helpers/stage.ts';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.ts';
import { topic, filter, type ChannelName } from '../../protocol/index.ts';

const MOSQUITTO_PUB = ['/usr/bin/mosquitto_pub', '/usr/local/bin/mosquitto_pub'].find((p) => existsSync(p));
const SHOW = join(ROOT, 'test/fixtures/quick-show.yaml');

/** Publishes with the real mosquitto_pub (asynchronously: the embedded broker lives in this process). */
async function pub(stage: Stage, t: string, message: string | null): Promise<void> {
  if (!MOSQUITTO_PUB) throw new Error('mosquitto_pub is not installed: apt-get install mosquitto-clients (.ci/run does this)');
  const { port } = new URL(stage.brokerUrl);
  await promisify(execFile)(MOSQUITTO_PUB, ['-h', '127.0.0.1', '-p', port, '-q', '1', '-t', t, ...(message === null ? ['-n'] : ['-m', message])]);
}

const brokers: [string, () => Promise<RunningMosquitto | null>][] = [
  ['aedes (embedded)', async () => null],
  ['Mosquitto', startMosquitto],
];

describe.each(brokers)('a show on %s', (_name, startBroker) => {
  let stage: Stage;
  let mosq: RunningMosquitto | null;
  let replies: { topic: string; payload: string }[];
  let closeRecorder: () => Promise<void>;
  const c = (name: ChannelName, params = {}) => topic('quick', name, params);
  const lastReply = (command: string) => [...replies].reverse().map((r) => JSON.parse(r.payload)).find((r) => r.command === command);

  beforeAll(async () => {
    mosq = await startBroker();
    stage = await startStage({ showFile: SHOW, brokerUrl: mosq?.url });
    const rec = await recorder(stage.brokerUrl, [filter('quick', 'consoleReply'), filter('quick', 'error')]);
    replies = rec.messages;
    closeRecorder = () => rec.client.endAsync();
  });
  afterAll(async () => {
    await closeRecorder?.();
    await stage?.stop();
    await mosq?.stop();
  });

  it('arms from mosquitto_pub, and a scene started from mosquitto_pub is performed in order', async () => {
    await pub(stage, c('consoleArm'), null);
    await waitFor('arm reply', () => !!lastReply('arm'));
    expect(lastReply('arm')).toMatchObject({ ok: true, message: expect.stringMatching(/armed: .*ann/) });
    const before = stage.hub.transcript.length;
    const finished = new Promise((r) => stage.hub.once('scene-finished', r));
    await pub(stage, c('consoleSceneStart'), 'hello');
    await finished;
    const lines = stage.hub.transcript.slice(before).map((l) => `${l.character}: ${l.text}`);
    expect(lines).toEqual(['ann: Good evening.', 'ben: Evening, Ann.', 'cat: Is it time?', 'dan: It is time.']);
    expect(lastReply('scene/start')).toMatchObject({ ok: true });
    // The gesture ran on an armed node: no cue was rejected.
    expect(replies.filter((r) => r.topic.endsWith('/error'))).toEqual([]);
  });

  it('GO steps through a manual scene, with a minimum time between GOs, and stop halts it', async () => {
    await pub(stage, c('consoleSceneStart'), '{"scene":"manual"}');
    await waitFor('first line', () => stage.hub.transcript.some((l) => l.text === 'First.'));
    await new Promise((r) => setTimeout(r, 350)); // past the minimum time between GOs
    await pub(stage, c('consoleGo'), null);
    await pub(stage, c('consoleGo'), null); // too soon: ignored
    await waitFor('second go reply', () => replies.filter((r) => JSON.parse(r.payload).command === 'go').length >= 2);
    const goReplies = replies.map((r) => JSON.parse(r.payload)).filter((r) => r.command === 'go');
    expect(goReplies[0]).toMatchObject({ ok: true });
    expect(goReplies[1]).toMatchObject({ ok: false, message: expect.stringMatching(/GO ignored: .* minimum is 0.3 s/) });
    await waitFor('second line', () => stage.hub.transcript.some((l) => l.text === 'Second.'));
    await waitFor('second line done', () => !stage.hub.playback.snapshot().running.includes('m2'));
    await new Promise((r) => setTimeout(r, 350));
    await pub(stage, c('consoleGo'), null); // the 5 s motion cue
    await waitFor('motion running', () => stage.hub.playback.snapshot().running.includes('m3'));
    await pub(stage, c('consoleStop'), null);
    await waitFor('stopped', () => stage.hub.playback.snapshot().status === 'stopped');
    expect(stage.hub.playback.snapshot().running).toEqual([]);
    await waitFor('stop reply', () => !!lastReply('stop'));
    expect(lastReply('stop')).toMatchObject({ ok: true, message: expect.stringMatching(/stopped 1 running cue/) });
  });

  it('GO from mosquitto_pub while an auto-follow cue speaks fires each following cue once', async () => {
    const before = stage.hub.transcript.length;
    const finished = new Promise((r) => stage.hub.once('scene-finished', r));
    await pub(stage, c('consoleSceneStart'), 'rounds');
    await waitFor('two lines', () => stage.hub.transcript.length >= before + 2);
    await new Promise((r) => setTimeout(r, 350)); // past the minimum time between GOs
    await pub(stage, c('consoleGo'), null); // while an auto-follow line speaks: fires the next cue now
    await finished;
    // Each line once, in order (GO only moved one cue earlier). Ad-libs (a node covering a late line) aside.
    expect(stage.hub.transcript.slice(before).filter((l) => l.source === 'hub').map((l) => l.text)).toEqual(['One, for the lamp.', 'Two, for the road.', 'Three, for the river.', 'Four, for the ferry.',
      'Five, for the moon.', 'Six, for the shore.', 'Seven, for the bell.', 'Eight, for the end.']);
    expect(stage.hub.playback.snapshot().running).toEqual([]);
  });

  it('an e-stop from mosquitto_pub stops every node; release leaves them disarmed; arm is needed again', async () => {
    const nodes = stage.show.cast.map((x) => x.node);
    await pub(stage, c('consoleEstop'), '{"reason":"test"}');
    await waitFor('every node e-stopped', () => nodes.every((n) => stage.hub.registry.get(n)?.state === 'estopped'), 5000);
    await pub(stage, c('consoleArm'), null);
    await waitFor('arm refused', () => lastReply('arm')?.ok === false);
    expect(lastReply('arm').message).toMatch(/e-stop is active/);
    await pub(stage, c('consoleSceneStart'), 'hello');
    await waitFor('scene refused', () => lastReply('scene/start')?.ok === false);
    await pub(stage, c('consoleRelease'), null);
    await waitFor('every node ready', () => nodes.every((n) => stage.hub.registry.get(n)?.state === 'ready'), 5000);
    await new Promise((r) => setTimeout(r, 200));
    expect(nodes.every((n) => stage.hub.registry.get(n)?.state === 'ready')).toBe(true); // nothing re-armed by itself
    await pub(stage, c('consoleArm'), null);
    await waitFor('armed again', () => nodes.every((n) => stage.hub.registry.get(n)?.state === 'armed'), 5000);
  });

  it('malformed payloads on every subscribed topic are rejected with a reason; nothing crashes or moves', async () => {
    const nodes = stage.show.cast.map((x) => x.node);
    const errorsBefore = replies.filter((r) => r.topic.endsWith('/error')).length;
    const statesBefore = nodes.map((n) => stage.hub.registry.get(n)?.state);
    const targets: ChannelName[] = ['nodeCue', 'nodeCmd', 'hubHeartbeat', 'hubState', 'estop', 'consoleEstop', 'nodeState', 'nodeBirth', 'nodeHeartbeat',
      'nodeCueAck', 'nodeEvent', 'nodeTelemetry', 'transcript', 'consoleSceneStart', 'consoleGo', 'consoleArm', 'consoleStop', 'consoleDisarm', 'consoleRelease'];
    const garbage = ['{not json', '{"v":2}', '[]', '"string"', '{"v":1,"cmd":"explode","ts":1}', 'Ω'.repeat(100)];
    for (const name of targets) {
      // Retained topics are left alone: garbage there would be replayed to every later test.
      const t = c(name, { node: 'ann', sensor: 'front-distance', kind: 'x' });
      for (const g of garbage) await pub(stage, t, g);
    }
    await waitFor('error reports', () => replies.filter((r) => r.topic.endsWith('/error')).length >= errorsBefore + 20, 10000);
    await new Promise((r) => setTimeout(r, 300));
    const errors = replies.slice(errorsBefore).filter((r) => r.topic.endsWith('/error')).map((r) => JSON.parse(r.payload));
    expect(errors.some((e) => e.reporter === 'hub' && /not valid JSON/.test(e.error))).toBe(true);
    expect(errors.some((e) => e.reporter === 'node/ann' && /cue/.test(e.topic))).toBe(true);
    expect(errors.some((e) => e.reporter === 'node/ann' && /cmd/.test(e.topic) && /cmd/.test(e.error))).toBe(true);
    for (const [, child] of stage.edges) expect(child.exitCode).toBeNull();
    expect(nodes.map((n) => stage.hub.registry.get(n)?.state)).toEqual(statesBefore);
    // A garbage console/estop must not e-stop anything.
    expect(stage.hub.estopActive).toBe(false);
    // Restore retained state the garbage overwrote (hub state, node state), as a real operator would not touch them.
    for (const n of nodes) stage.hub.publish('nodeCmd', { node: n }, { v: 1, cmd: 'rebirth', ts: Date.now() });
  });

  it('a node killed in mid-scene is marked lost, and the others carry on', async () => {
    const ready = () => stage.show.cast.every((x) => ['armed', 'ready'].includes(stage.hub.registry.get(x.node)?.state ?? ''));
    await waitFor('nodes settled', ready, 5000);
    await pub(stage, c('consoleArm'), null);
    await waitFor('armed', () => stage.show.cast.every((x) => stage.hub.registry.get(x.node)?.state === 'armed'), 5000);
    const before = stage.hub.transcript.length;
    const finished = new Promise((r) => stage.hub.once('scene-finished', r));
    await pub(stage, c('consoleSceneStart'), 'rounds');
    await waitFor('two lines', () => stage.hub.transcript.length >= before + 2);
    stage.edges.get('cat')!.kill('SIGKILL');
    await waitFor('cat lost', () => stage.hub.registry.get('cat')?.state === 'lost', 10000);
    await finished;
    const lines = stage.hub.transcript.slice(before);
    expect(lines.some((l) => l.character === 'dan' && l.text === 'Eight, for the end.')).toBe(true);
    expect(lines.some((l) => l.text === 'Seven, for the bell.')).toBe(false);
    // Bring cat back for the next broker's run of the suite.
    stage.edges.set('cat', spawnEdge('quick', 'cat', stage.brokerUrl));
    await waitFor('cat back', () => stage.hub.registry.get('cat')?.state === 'ready', 20000);
  });
});
