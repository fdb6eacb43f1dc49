/**
 * An improvised scene and a council question through a real hub: embedded broker, the hub, the
 * ensemble with the deterministic mock model, and real edge node processes (two, to keep a
 * loaded machine's start-up short; the other two cast members stay offline).
 */
import { describe, it, expect, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { connect, type MqttClient } from 'mqtt';
import { createLogger } from '../../bin/log.ts';
import { loadShow } from '../../hub/show/load.ts';
import { Hub } from '../../hub/hub.ts';
import { attachEnsemble } from '../../hub/ensemble/runtime.ts';
import { readJournal } from '../../hub/journal.ts';
import { topic } from '../../protocol/index.ts';
import type { ShowT } from '../../hub/show/schema.ts';
import { ROOT, BLADE } from './helpers.ts';

const KUROKO = `${ROOT}bin/kuroko.js`;
const SIM_PROFILE = `${ROOT}firmware-config/profiles/sim-robot.yaml`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('ensemble through a real hub and real edge nodes', () => {
  const children: ChildProcess[] = [];
  let hub: Hub | null = null;
  let client: MqttClient | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-ensemble-'));

  afterAll(async () => {
    await client?.endAsync().catch(() => undefined);
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    await hub?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('performs an improvised scene on the nodes, takes the operator\'s next speaker, and answers a council question', async () => {
    const blade = loadShow(BLADE);
    const show: ShowT = {
      ...blade,
      scenes: [{ id: 'mini', cues: [{ id: 'i1', kind: 'improv', premise: 'The bridge is down; the ferry is the only way across the river.', onStage: ['kenzaki', 'aikawa'], maxTurns: 3, minTurns: 3, maxMinutes: 1 }] }],
    };
    // The sim robot, speaking three times as fast, to keep the test short.
    const PROFILE = join(dir, 'fast-robot.yaml');
    writeFileSync(PROFILE, readFileSync(SIM_PROFILE, 'utf8').replace(/engine: sim\n/, 'engine: sim\n  msPerChar: 15\n'));
    const port = await getPort();
    const t0 = Date.now();
    hub = new Hub({ show, port, logger: createLogger('test', 'error'), journalDir: dir });
    const ensemble = attachEnsemble(hub, { seed: 2 });
    await hub.start();
    const live = show.cast.filter((c) => c.id === 'kenzaki' || c.id === 'aikawa');
    for (const c of live) {
      children.push(spawn(process.execPath, [KUROKO, 'edge', '--show', show.show, '--node', c.node, '--character', c.id, '--profile', PROFILE,
        '--broker', `mqtt://127.0.0.1:${port}`, '--log-level', 'error'], { stdio: ['ignore', 'ignore', 'inherit'] }));
    }
    const h = hub;
    await until(() => live.every((c) => h.registry.isOnline(c.node) && !!h.registry.get(c.node)?.birth), 45_000, 'the nodes');
    let armed = await h.console.run('arm');
    for (let i = 0; i < 5 && !armed.ok; i++) { await sleep(300); armed = await h.console.run('arm'); }
    expect(armed.ok).toBe(true);
    const tUp = Date.now() - t0;

    // The operator picks the first speaker over MQTT.
    client = connect(`mqtt://127.0.0.1:${port}`);
    await new Promise((r) => client!.once('connect', r));
    const replies: { command: string; ok: boolean; message: string }[] = [];
    const events: { kind: string; data: Record<string, unknown> }[] = [];
    client.on('message', (t, p) => {
      const m = JSON.parse(p.toString());
      if (t.endsWith('/console/reply')) replies.push(m);
      else events.push(m);
    });
    await client.subscribeAsync([topic(show.show, 'consoleReply'), `${topic(show.show, 'hubState').replace(/hub\/state$/, '')}hub/event/council-answer`], { qos: 1 });
    await client.publishAsync(topic(show.show, 'consoleNextSpeaker'), 'aikawa', { qos: 1 });
    await until(() => replies.some((r) => r.command === 'next-speaker'), 5000, 'the next-speaker reply');
    expect(replies.find((r) => r.command === 'next-speaker')).toMatchObject({ ok: true });

    const finished = new Promise<string>((r) => h.once('scene-finished', r));
    expect((await h.console.run('scene/start', { scene: 'mini' })).ok).toBe(true);
    expect(await finished).toBe('mini');
    const rec = ensemble.records[0]!;
    expect(rec.turns).toHaveLength(3);
    expect(rec.turns[0]).toMatchObject({ speaker: 'aikawa', reason: 'override' });
    expect(h.nextSpeaker.current).toBeNull();
    // Each turn was performed by its character's node (the transcript comes from the nodes).
    await until(() => h.transcript.filter((l) => l.scene === 'mini').length >= 3, 5000, 'the transcript');
    const performed = h.transcript.filter((l) => l.scene === 'mini' && l.source === 'hub');
    expect(performed.map((l) => [l.node, l.character, l.text, l.emotion])).toEqual(rec.turns.map((t) => [t.speaker, t.speaker, t.line, t.emotion]));
    expect(ensemble.stage.refusedGestures.count).toBe(0);
    const journal = readJournal(h.journal!.file);
    expect(journal.filter((r) => r.type === 'event' && r.kind === 'improv-turn')).toHaveLength(3);

    // A council question over MQTT, answered on stage.
    const before = h.transcript.length;
    await client.publishAsync(topic(show.show, 'consoleCouncilAsk'), JSON.stringify({ question: 'Do we take the ferry tonight?', onStage: ['aikawa', 'kenzaki'] }), { qos: 1 });
    await until(() => events.some((e) => e.kind === 'council-answer'), 20_000, 'the council answer');
    expect(replies.find((r) => r.command === 'council/ask')).toMatchObject({ ok: true });
    const answer = events.find((e) => e.kind === 'council-answer')!.data;
    expect(answer).toMatchObject({ question: 'Do we take the ferry tonight?', by: 'kenzaki' });
    await until(() => h.transcript.length >= before + 2, 5000, 'the council lines');
    expect(h.transcript.slice(before).map((l) => l.character)).toEqual(['aikawa', 'kenzaki']);
    console.log(`integration: nodes up in ${tUp} ms, scene and council in ${Date.now() - t0 - tUp} ms`);
  }, 90_000);
});
