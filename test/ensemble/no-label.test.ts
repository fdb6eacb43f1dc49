import { describe, it, expect } from 'vitest';
import { parseTurn } from '../../hub/ensemble/turn.ts';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { MockImproviser } from '../../hub/ensemble/mock-backend.ts';
import { bladeCast, crossingSpec } from './helpers.ts';

// What a label or markup looks like in a spoken line: a bracket, an asterisk, a tag, a number like 0.7.
const MARKUP = /[()（）[\]［］<>*]|\d\.\d|^\s*\p{L}+\s*[:：]/u;

const en = bladeCast();
const ken = en.find((c) => c.id === 'kenzaki')!;
const ja = en.map((c, i) => ({ ...c, name: ['剣崎', '立花', '相川', '睦月'][i] ?? c.name, persona: { ...c.persona, language: 'ja' } }));
const mutsuki = ja.find((c) => c.name === '睦月')!;

describe('no label in a spoken line, on every repair path', () => {
  const cases: [string, typeof ken, readonly (typeof ken)[], string][] = [
    // JSON: the label left inside the line field, with and without an emotion field.
    ['{"speaker":"Kenzaki","line":"(surprise 0.7) Wait. You are quiet.","emotion":"surprise"}', ken, en, 'Wait. You are quiet.'],
    ['{"speaker":"Kenzaki","line":"(neutral 0.3) Right."}', ken, en, 'Right.'],
    ['{"speaker":"Kenzaki","line":"KENZAKI: (anger 0.9) Enough! *shake*","emotion":"anger"}', ken, en, 'Enough!'],
    // JSON repaired (prose around, bad syntax, unterminated, code fence).
    ['Sure! {"speaker": "Kenzaki", "line": "(worry 0.6) Careful now.", "emotion": "worry"} Hope this helps!', ken, en, 'Careful now.'],
    ["{speaker: 'Kenzaki', line: '(calm) Sit.', emotion: 'calm',}", ken, en, 'Sit.'],
    ['{"speaker":"Kenzaki","line":"(joy 0.8) We did it', ken, en, 'We did it'],
    ['```json\n{"speaker":"kenzaki","line":"[beat] (fear 0.7) Run.","emotion":"fear"}\n```', ken, en, 'Run.'],
    // Play format: name tag, continuation, quotes, stage directions, gestures, an unknown label with a number, a run-on.
    ['KENZAKI: (determined 0.8) To the ferry. *nod*', ken, en, 'To the ferry.'],
    [' "(joy 0.7) Well, that changes everything."', ken, en, 'Well, that changes everything.'],
    [' (gloomy 0.4) The sky is low.', ken, en, 'The sky is low.'],
    [' (slowly) We wait. (anger 0.5) No more.', ken, en, 'We wait. No more.'],
    ['KENZAKI: (anger) Move!\nTACHIBANA: (calm 0.2) Why?', ken, en, 'Move!'],
    [' Kenzaki: (trust 0.5) Kenzaki: Together.', ken, en, 'Together.'],
    // Japanese: a Japanese name tag with a full-width colon, Japanese labels, full-width brackets.
    ['睦月: (surprise 0.7) えっ、もう朝なの？', mutsuki, ja, 'えっ、もう朝なの？'],
    ['睦月：（驚き 0.7）えっ、もう朝なの？', mutsuki, ja, 'えっ、もう朝なの？'],
    [' （不安）川の水が増えている。', mutsuki, ja, '川の水が増えている。'],
    ['{"speaker":"睦月","line":"「（怒り 0.9）ふざけるな！」","emotion":"怒り"}', mutsuki, ja, 'ふざけるな！'],
    ['{"speaker":"睦月","line":"［間］夜は長い。*nod*","emotion":"calm"}', mutsuki, ja, '夜は長い。'],
  ];
  for (const [raw, who, cast, want] of cases) {
    it(`${raw.slice(0, 60)}`, () => {
      const r = parseTurn(raw, who, cast, { continuation: true });
      expect(r.turn?.line, r.notes.join('; ')).toBe(want);
      expect(r.turn!.line).not.toMatch(MARKUP);
    });
  }

  it('a label lifted from the line becomes the emotion when the answer had none', () => {
    expect(parseTurn('{"speaker":"Kenzaki","line":"(surprise 0.7) Wait."}', ken, en).turn).toMatchObject({ emotion: 'surprise', intensity: 0.7, line: 'Wait.' });
    expect(parseTurn('睦月: （怒り 0.9）許さない。', mutsuki, ja).turn).toMatchObject({ emotion: 'anger', line: '許さない。' });
  });

  it('no performed line of a whole faulty scene carries a label (mock improviser at a high fault rate, both languages)', async () => {
    for (const cast of [en, ja]) {
      for (const style of ['play', 'json'] as const) {
        const clock = new VirtualClock();
        const engine = new ImprovEngine({ cast, backend: new MockImproviser({ seed: 3, faultRate: 0.8 }), clock, performer: new SimPerformer(clock), memories: new MemoryBank() }, { seed: 3, style });
        const rec = await clock.run(engine.run(crossingSpec({ maxTurns: 12, minTurns: 12 })));
        expect(rec.turns.length).toBeGreaterThan(5);
        for (const t of rec.turns) expect(t.line, `${style}: ${t.line}`).not.toMatch(MARKUP);
      }
    }
  });
});
