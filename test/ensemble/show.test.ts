import { describe, it, expect } from 'vitest';
import { loadShow, parseShow } from '../../hub/show/load.ts';
import { loadCast, improvSpecFromCue } from '../../hub/ensemble/runtime.ts';
import { ROOT, BLADE } from './helpers.ts';

describe('show files with improv and council cues', () => {
  it('the sample shows load, with their ensemble scenes', () => {
    const blade = loadShow(BLADE);
    const kinds = blade.scenes.flatMap((s) => s.cues.map((c) => c.kind));
    expect(kinds).toContain('improv');
    expect(kinds).toContain('council');
    const twelve = loadShow(`${ROOT}hub/shows/twelve.yaml`);
    expect(twelve.cast).toHaveLength(12);
    const cue = twelve.scenes.find((s) => s.id === 'storm')!.cues[0]!;
    const spec = improvSpecFromCue(cue, 'storm');
    expect(spec).toMatchObject({ id: 'storm', maxTurns: 14, minTurns: 12, maxMinutes: 2 });
    expect(spec.onStage).toHaveLength(12);
    expect(loadCast(twelve).map((c) => c.id)).toEqual(twelve.cast.map((c) => c.id));
  });

  it('checks what the schema cannot: cast, beats and must-say references, caps', () => {
    const cast = [1, 2, 3, 4].map((i) => `  - { id: c${i}, name: C${i}, node: n${i} }`).join('\n');
    const bad = `kuroko: 1\nshow: t\ntitle: T\ncast:\n${cast}\nscenes:\n  - id: s\n    cues:\n      - { id: i, kind: improv, premise: P, onStage: [c1, c9], maxTurns: 1, maxMinutes: 1, beats: [{ id: b, goal: G, keywords: [k], by: [c3] }], mustSay: [{ character: c2, text: hi, afterBeat: nope }] }\n      - { id: q, kind: council, onStage: [c1] }\n`;
    let msg = '';
    try { parseShow('t.yaml', bad); } catch (e) { msg = (e as Error).message; }
    expect(msg).toMatch(/"c9" is not in the cast/);
    expect(msg).toMatch(/beats\[0\]\.by\[0\]: "c3" is not on stage/);
    expect(msg).toMatch(/mustSay\[0\]\.character: "c2" is not on stage/);
    expect(msg).toMatch(/no beat "nope"/);
    expect(msg).toMatch(/1 turns cannot hit/);
    expect(msg).toMatch(/council cue needs "question"/);
  });
});
