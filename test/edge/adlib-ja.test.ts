/** The shipped node model (trained on English and Japanese) ad-libs in Japanese for a Japanese character. */
import { describe, it, expect } from 'vitest';
import { Adlibber, speakableAdlib } from '../../edge/adlib.ts';

const KANA_KANJI = /[\u3040-\u30ff\u3400-\u9fff]/g;

describe('local ad-libs in Japanese', () => {
  it('the shipped model writes Japanese lines for a Japanese character', async () => {
    const a = await Adlibber.load({ id: 'mutsuki', name: '睦月', persona: 'みんなの気持ちに気づく穏やかな調停役。', language: 'ja' });
    a.hear('弥生', 'それなら川沿いの道は危険が倍になる。');
    a.hear('霜月', '四時間など何でもない。今夜出発だ。');
    const lines = [];
    for (const reason of ['late-line', 'hub-lost', 'late-line', 'proximity', 'late-line', 'hub-lost'] as const) lines.push(await a.line(reason, 2000));
    const fromModel = lines.filter((l) => l.fromModel);
    // A 1.35 M model is weak, but most of its lines are usable Japanese (the rest fall back to Japanese lines).
    expect(fromModel.length, JSON.stringify(lines)).toBeGreaterThanOrEqual(2);
    for (const l of lines) {
      const ja = (l.text.match(KANA_KANJI) ?? []).length;
      expect(ja / [...l.text].length, l.text).toBeGreaterThan(0.7);
      expect(l.text).not.toMatch(/[()（）\ufffd]/);
    }
  });

  it('keeps only what can be spoken: no stage directions, no broken bytes, Japanese for a Japanese character', () => {
    expect(speakableAdlib('（驚いて）まあ、そうなのね。', true)).toBe('まあ、そうなのね。');
    expect(speakableAdlib('（座を傘', true)).toBeNull();
    expect(speakableAdlib('お願い\ufffdます', true)).toBeNull();
    expect(speakableAdlib('Good morrow, friend.', true)).toBeNull();
    expect(speakableAdlib('Good morrow (aside) friend.', false)).toBe('Good morrow friend.');
  });
});
