import { describe, it, expect } from 'vitest';
import { parseTurn, TurnStats } from '../../hub/ensemble/turn.ts';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { bladeCast, crossingSpec, ListBackend } from './helpers.ts';

const cast = bladeCast();
const ken = cast.find((c) => c.id === 'kenzaki')!;

describe('structured turns: validation and repair', () => {
  it('accepts a valid JSON turn as valid', () => {
    const r = parseTurn('{"speaker":"Kenzaki","line":"We go tonight.","emotion":"determined","intensity":0.8,"gesture":"nod"}', ken, cast);
    expect(r.status).toBe('valid');
    expect(r.turn).toEqual({ speaker: 'kenzaki', line: 'We go tonight.', emotion: 'determined', intensity: 0.8, gesture: 'nod' });
  });

  it('accepts the play format with an emotion tag as valid', () => {
    const r = parseTurn('KENZAKI: (anger 0.9) Enough! *shake*', ken, cast);
    expect(r).toMatchObject({ status: 'valid', turn: { line: 'Enough!', emotion: 'anger', intensity: 0.9, gesture: 'shake' } });
    expect(parseTurn(' (calm 0.4) Sit down.', ken, cast, { continuation: true }).status).toBe('valid');
  });

  it('repairs what has a clear meaning, and says what it fixed', () => {
    const cases: [string, string][] = [
      ['Sure! Here is my line: {"speaker": "Kenzaki", "line": "We go.", "emotion": "determined"} Hope this helps!', 'We go.'],
      ["{speaker: 'Kenzaki', line: 'We go now.', emotion: 'resolute',}", 'We go now.'],
      ['KENZAKI: We leave at moonrise.\nTACHIBANA: No we do not.', 'We leave at moonrise.'],
      ['<|im_start|>KENZAKI: (determined) "To the ferry." [pause]<|endoftext|>', 'To the ferry.'],
      ['```json\n{"speaker":"kenzaki","line":"Move.","emotion":"Furious","intensity":"0.7"}\n```', 'Move.'],
      ['{"line": "No speaker given.", "emotion": "calm"}', 'No speaker given.'],
      [' "(joy 0.7) Well, that changes everything."', 'Well, that changes everything.'],
    ];
    for (const [raw, line] of cases) {
      const r = parseTurn(raw, ken, cast);
      expect(r.status, raw).toBe('repaired');
      expect(r.turn?.line, raw).toBe(line);
      expect(r.notes.length, raw).toBeGreaterThan(0);
    }
    expect(parseTurn("{speaker: 'Kenzaki', line: 'We go now.', emotion: 'resolute',}", ken, cast).turn?.emotion).toBe('determined');
    expect(parseTurn('KENZAKI: Careful, the odds are poor.', ken, cast).turn?.emotion).toBe('worry'); // inferred
  });

  it('rejects what cannot be repaired: wrong speaker, no words, junk', () => {
    expect(parseTurn('TACHIBANA: (worry) Too risky.', ken, cast)).toMatchObject({ status: 'invalid', wrongSpeaker: 'tachibana' });
    expect(parseTurn('{"speaker":"Aikawa","line":"Hi","emotion":"joy"}', ken, cast)).toMatchObject({ status: 'invalid', wrongSpeaker: 'aikawa' });
    expect(parseTurn('<|endoftext|>', ken, cast).status).toBe('invalid');
    expect(parseTurn(' ... ', ken, cast).status).toBe('invalid');
    expect(parseTurn('{"speaker":"Kenzaki","emotion":"joy"}', ken, cast).status).toBe('invalid');
  });

  it('counts outcomes, regenerations and fallbacks in a scene', async () => {
    const clock = new VirtualClock();
    const stats = new TurnStats();
    // Turn 1: junk, then wrong speaker, then valid. Turn 2 onwards: junk forever → fallback.
    const backend = new ListBackend(['<|endoftext|>', 'AIKAWA: (joy) Me first!', ' (determined 0.9) We go by the ferry.', '']);
    const engine = new ImprovEngine({ cast, backend, clock, performer: new SimPerformer(clock), memories: new MemoryBank(), stats }, { lookahead: false, maxAttempts: 3 });
    const rec = await clock.run(engine.run(crossingSpec({ beats: [], mustSay: [], maxTurns: 2, minTurns: 2, onStage: ['kenzaki', 'mutsuki'] })));
    expect(rec.turns[0]).toMatchObject({ source: 'model', attempts: 3, firstStatus: 'invalid', line: 'We go by the ferry.' });
    expect(rec.turns[1]).toMatchObject({ source: 'fallback', attempts: 3 });
    expect(stats.snapshot()).toMatchObject({ valid: 1, invalid: 5, wrongSpeaker: 1, regenerated: 4, fallbacks: 1 });
  });
});
