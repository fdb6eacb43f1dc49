import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { normalizeEmotion, inferEmotion, resolveEmotion, EMOTIONS } from '../../hub/ensemble/emotion.ts';
import { emotionPrf } from '../../hub/ensemble/metrics.ts';
import { ROOT } from './helpers.ts';

describe('emotion in Japanese', () => {
  it('accepts Japanese labels', () => {
    expect(normalizeEmotion('怒り')).toBe('anger');
    expect(normalizeEmotion('不安')).toBe('worry');
    expect(normalizeEmotion('喜び')).toBe('joy');
    expect(normalizeEmotion('「驚き」')).toBe('surprise');
    expect(normalizeEmotion('悲しみ')).toBe('sadness');
    expect(normalizeEmotion('好奇心')).toBe('curious');
    expect(normalizeEmotion('月曜日')).toBeNull();
    expect(normalizeEmotion('Angry')).toBe('anger'); // English still works
  });

  it('infers from Japanese words when there is no usable label', () => {
    expect(inferEmotion('ふざけるな、地図を返せ。').emotion).toBe('anger');
    expect(inferEmotion('嫌な予感がする。').emotion).toBe('worry');
    expect(inferEmotion('地図は机の上にある。').emotion).toBe('neutral');
    expect(resolveEmotion('わからない', undefined, 'やった、船が動いた！')).toMatchObject({ emotion: 'joy', inferred: true });
  });

  it('the Japanese evaluation set is labelled over every emotion, and the lexicon reads it', () => {
    const set = readFileSync(`${ROOT}test/eval/emotion-labels.ja.jsonl`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { text: string; emotion: string });
    expect(set.length).toBeGreaterThanOrEqual(48);
    expect(new Set(set.map((s) => s.emotion))).toEqual(new Set(EMOTIONS));
    for (const s of set) expect(s.text).toMatch(/[\p{Script=Hiragana}\p{Script=Han}]/u);
    const prf = emotionPrf(set.map((s) => ({ gold: s.emotion, predicted: inferEmotion(s.text).emotion })));
    // Before the Japanese lexicon every line fell to neutral (F1 ≈ 0.01); the floor is far above that.
    expect(prf.f1).toBeGreaterThan(0.6);
  });
});
