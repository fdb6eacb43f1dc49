import { describe, it, expect } from 'vitest';
import { parseSpeakerSrt, transcriptToSrt } from '../../hub/srt.ts';
import { srtToScene, recordToScene, journalToScene, sceneYaml } from '../../hub/ensemble/replay.ts';
import { Playback } from '../../hub/playback.ts';
import { loadShow, parseShow } from '../../hub/show/load.ts';
import type { ShowT, SceneT } from '../../hub/show/schema.ts';
import type { CueT } from '../../protocol/index.ts';
import type { NodeRegistry } from '../../hub/registry.ts';
import type { JournalRecord } from '../../hub/journal.ts';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { MockImproviser } from '../../hub/ensemble/mock-backend.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { BLADE, bladeCast, crossingSpec } from './helpers.ts';

const SRT = `1
00:00:01,000 --> 00:00:03,000
Kenzaki: We go tonight.

2
00:00:03,500 --> 00:00:06,000
TACHIBANA: In the dark? On a flooded road?

3
00:00:07,000 --> 00:00:08,000
aikawa: The old ferry.
`;

/** Plays a scene with Playback, every node acking at once; returns the wire cues in order. */
async function play(show: ShowT, sceneId: string): Promise<CueT[]> {
  const sent: CueT[] = [];
  const t0 = performance.now();
  const pb: Playback = new Playback({
    show, clock: { showNow: () => performance.now() - t0 },
    registry: { isOnline: () => true, get: () => undefined } as unknown as NodeRegistry,
    sendCue: (node, cue) => {
      sent.push(cue);
      setImmediate(() => {
        pb.onAck(node, { v: 1, cue: cue.id, node, status: 'accepted', showTime: 0, ts: 0 });
        pb.onAck(node, { v: 1, cue: cue.id, node, status: 'started', durationMs: 1, showTime: 0, ts: 0 });
        setImmediate(() => pb.onAck(node, { v: 1, cue: cue.id, node, status: 'done', showTime: 0, ts: 0 }));
      });
    },
    stopNode: () => undefined,
  });
  const done = new Promise<void>((r) => pb.on('scene-finished', () => r()));
  expect(pb.startScene(sceneId).ok).toBe(true);
  await done;
  pb.close();
  return sent;
}

describe('SRT import', () => {
  const cast = loadShow(BLADE).cast;

  it('maps speakers by name or id and times the cues as the subtitles', () => {
    const scene = srtToScene(parseSpeakerSrt('t.srt', SRT), cast, { sceneId: 'from-srt' });
    expect(scene.cues).toEqual([
      { id: 's1', kind: 'line', character: 'kenzaki', text: 'We go tonight.', emotion: 'determined', preWait: 1, continue: 'auto-continue', postWait: 2.5 },
      { id: 's2', kind: 'line', character: 'tachibana', text: 'In the dark? On a flooded road?', emotion: 'fear', continue: 'auto-continue', postWait: 3.5 },
      { id: 's3', kind: 'line', character: 'aikawa', text: 'The old ferry.', emotion: 'neutral' },
    ]);
    const follow = srtToScene(parseSpeakerSrt('t.srt', SRT), cast, { sceneId: 'x', timing: 'follow', keepLeadIn: true, inferEmotions: false });
    expect(follow.cues.map((c) => [c.preWait, c.continue, c.postWait, c.emotion])).toEqual([[1, 'auto-follow', 0.5, undefined], [undefined, 'auto-follow', 1, undefined], [undefined, undefined, undefined, undefined]]);
  });

  it('names the speakers it cannot place', () => {
    expect(() => srtToScene(parseSpeakerSrt('t.srt', SRT.replace('aikawa:', 'Hamlet:')), cast, { sceneId: 'x' })).toThrow(/Hamlet/);
  });

  it('the imported scene loads in a show and plays as a cue list', async () => {
    const base = loadShow(BLADE);
    const scene = srtToScene(parseSpeakerSrt('t.srt', SRT), cast, { sceneId: 'from-srt' });
    const text = `kuroko: 1\nshow: t\ntitle: T\nsettings: { minGoInterval: 0 }\ncast: ${JSON.stringify(base.cast)}\nscenes:\n${sceneYaml({ ...scene, cues: scene.cues.map((c) => ({ ...c, preWait: 0, postWait: 0 })) })}`;
    const show = parseShow('t.yaml', text);
    const sent = await play(show, 'from-srt');
    expect(sent.map((c) => c.kind === 'line' && [c.params.character, c.params.text])).toEqual([['kenzaki', 'We go tonight.'], ['tachibana', 'In the dark? On a flooded road?'], ['aikawa', 'The old ferry.']]);
  });
});

describe('replay of an improvised run', () => {
  it('a recorded run replays exactly as a fixed cue list', async () => {
    const clock = new VirtualClock();
    const engine = new ImprovEngine({ cast: bladeCast(), backend: new MockImproviser({ seed: 11 }), clock, performer: new SimPerformer(clock), memories: new MemoryBank() }, { seed: 4 });
    const rec = await clock.run(engine.run(crossingSpec()));
    expect(rec.turns.length).toBeGreaterThanOrEqual(8);
    const scene: SceneT = recordToScene(rec, { sceneId: 'replay', maxPauseMs: 20 });
    // Pauses are the ones the run had (capped here to keep the test fast).
    const lines = scene.cues.filter((c) => c.kind === 'line');
    expect(lines.slice(0, -1).every((c) => c.continue === 'auto-follow' && c.postWait! <= 0.02)).toBe(true);
    const base = loadShow(BLADE);
    const show = parseShow('r.yaml', `kuroko: 1\nshow: r\ntitle: R\nsettings: { minGoInterval: 0 }\ncast: ${JSON.stringify(base.cast)}\nscenes:\n${sceneYaml(scene)}`);
    const sent = await play(show, 'replay');
    const performedLines = sent.flatMap((c) => (c.kind === 'line' ? [{ speaker: c.params.character, line: c.params.text, emotion: c.params.emotion, intensity: c.params.intensity }] : []));
    expect(performedLines).toEqual(rec.turns.map((t) => ({ speaker: t.speaker, line: t.line, emotion: t.emotion, intensity: t.intensity })));
    const gestures = sent.flatMap((c) => (c.kind === 'gesture' ? [c.params.name] : []));
    expect(gestures).toEqual(rec.turns.flatMap((t) => (t.gesture ? [t.gesture] : [])));
    // The same from the journal the hub writes (improv-turn events), and its subtitles.
    const journal: JournalRecord[] = rec.turns.map((t) => ({ type: 'event', at: '', source: 'ensemble', kind: 'improv-turn', data: { scene: 'crossing', ...t } }));
    expect(journalToScene(journal, { fromScene: 'crossing', sceneId: 'replay', maxPauseMs: 20 })).toEqual(scene);
    const srt = transcriptToSrt(rec.turns.map((t) => ({ v: 1, node: t.speaker, character: t.speaker, text: t.line, scene: 'crossing', cue: null, source: 'hub', startShowTime: t.startedAt, durationMs: t.endedAt - t.startedAt, ts: 0 })));
    expect(parseSpeakerSrt('x.srt', srt).map((l) => l.text)).toEqual(rec.turns.map((t) => t.line));
  });
});
