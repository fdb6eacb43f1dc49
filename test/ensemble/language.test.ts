/** The character's language drives the writing: prompts, the mock improviser, limits, repeats. */
import { describe, it, expect } from 'vitest';
import { loadShow } from '../../hub/show/load.ts';
import { loadCast, improvSpecFromCue } from '../../hub/ensemble/runtime.ts';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { MockImproviser } from '../../hub/ensemble/mock-backend.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { Council } from '../../hub/ensemble/council.ts';
import { turnPrompt } from '../../hub/ensemble/prompt.ts';
import { parseTurn } from '../../hub/ensemble/turn.ts';
import { isRepeatOf, maxLineChars } from '../../hub/ensemble/language.ts';
import { repetitionRate } from '../../hub/ensemble/metrics.ts';
import { ROOT, BLADE } from './helpers.ts';

const TSUKIYO = `${ROOT}hub/shows/tsukiyo.yaml`;
const JA_TEXT = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;

function improvScene(file: string) {
  const show = loadShow(file);
  const scene = show.scenes.find((s) => s.cues.some((c) => c.kind === 'improv'))!;
  return { show, cast: loadCast(show, file), spec: improvSpecFromCue(scene.cues.find((c) => c.kind === 'improv')!, scene.id) };
}

async function perform(file: string, seed: number, style: 'play' | 'json') {
  const { show, cast, spec } = improvScene(file);
  const clock = new VirtualClock();
  const engine = new ImprovEngine({ cast, backend: new MockImproviser({ seed }), clock, performer: new SimPerformer(clock), memories: new MemoryBank() }, { seed, style, title: show.title });
  return clock.run(engine.run({ ...spec, maxTurns: 10, minTurns: 10 }));
}

describe('the character\'s language drives the writing', () => {
  it('a Japanese character\'s prompt asks for Japanese, in English and in Japanese; an English one is unchanged', () => {
    const { cast, spec } = improvScene(TSUKIYO);
    const memory = new MemoryBank().get(cast[0]!.id);
    for (const style of ['play', 'json'] as const) {
      const p = turnPrompt({ style, title: 'T', spec, speaker: cast[0]!, onStage: cast, memory, now: 0, gestures: [] });
      const text = p.prompt ?? p.messages!.map((m) => m.content).join('\n');
      expect(text).toMatch(/^Language: ja\. 霜月 speaks Japanese \(日本語\) only/m);
      expect(text).toContain('日本語だけで、80文字以内');
    }
    const en = improvScene(BLADE);
    const p = turnPrompt({ style: 'play', title: 'T', spec: en.spec, speaker: en.cast[0]!, onStage: en.cast, memory: new MemoryBank().get('kenzaki'), now: 0, gestures: [] });
    expect(p.prompt).not.toMatch(/Language:/);
  });

  it('the mock improviser writes Japanese for Japanese characters and English for English ones', async () => {
    for (const style of ['play', 'json'] as const) {
      for (const seed of [1, 2]) {
        const ja = await perform(TSUKIYO, seed, style);
        expect(ja.turns.length).toBeGreaterThanOrEqual(4);
        for (const t of ja.turns) {
          expect(t.line, t.line).toMatch(JA_TEXT);
          expect(t.line, t.line).not.toMatch(/[A-Za-z]/);
        }
        const en = await perform(BLADE, seed, style);
        for (const t of en.turns) expect(t.line, t.line).not.toMatch(JA_TEXT);
      }
    }
  });

  it('a Japanese council answers in Japanese', async () => {
    const clock = new VirtualClock();
    const c = new Council({ cast: loadCast(loadShow(TSUKIYO), TSUKIYO), backend: new MockImproviser({ seed: 3 }), clock, performer: new SimPerformer(clock), memories: new MemoryBank() });
    const r = await clock.run(c.ask('今夜川を渡るべきか、それとも夜明けを待つべきか？'));
    for (const t of [...r.takes, r.answer]) expect(t.line, t.line).not.toMatch(/[A-Za-z]/);
    expect(r.answer.line).toMatch(/^私たちの答え：/);
  });

  it('counts a Japanese line\'s length in characters and cuts it at a sentence end', () => {
    const { cast } = improvScene(TSUKIYO);
    const long = '川の水はもう膝まで来ている。'.repeat(10);
    const r = parseTurn(`{"speaker":"霜月","line":"${long}","emotion":"worry"}`, cast[0]!, cast);
    expect([...r.turn!.line].length).toBeLessThanOrEqual(maxLineChars('ja'));
    expect(r.turn!.line.endsWith('。')).toBe(true);
    expect(r.notes).toContain('line shortened');
    // The same number of English characters is well within the English limit.
    expect(maxLineChars('en')).toBeGreaterThan(maxLineChars('ja'));
  });

  it('repeats in Japanese are measured on character bigrams (a sentence is one "word" between spaces)', () => {
    expect(isRepeatOf('渡し舟で行こう。今すぐだ。', '渡し舟で行こう、今すぐだ！')).toBe(true);
    expect(isRepeatOf('いいか、渡し舟で行こう。今すぐだ。', '渡し舟で行こう。今すぐだ。')).toBe(true);
    expect(isRepeatOf('渡し舟で行こう。', '川沿いの道は危ない。')).toBe(false);
    expect(repetitionRate(['川は危ない。気をつけて。', '川は危ない。気をつけてね。', '渡し舟で行こう。'])).toBeCloseTo(1 / 3);
    // English unchanged: words, not characters.
    expect(isRepeatOf('We take the old ferry now.', 'Now we take the old ferry.')).toBe(true);
    expect(isRepeatOf('The ferry is slow.', 'The river is fast.')).toBe(false);
  });
});
