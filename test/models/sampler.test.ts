import { describe, expect, it } from 'vitest';
import { applyRepetitionPenalty, argmax, createRng, sampleToken } from '../../models/runtime/sampler.ts';
import { StopStringMatcher } from '../../models/runtime/stop-strings.ts';

describe('sampler', () => {
  it('a seeded generator repeats its sequence and differs across seeds', () => {
    const a = createRng(42), b = createRng(42), c = createRng(43);
    const sa = Array.from({ length: 5 }, a), sb = Array.from({ length: 5 }, b), sc = Array.from({ length: 5 }, c);
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    for (const x of sa) expect(x >= 0 && x < 1).toBe(true);
  });

  it('temperature 0 is greedy', () => {
    expect(sampleToken(new Float32Array([0.1, 3, 2]), { temperature: 0 }, [], createRng(1))).toBe(1);
  });

  it('top-k 1 always picks the best token, top-p keeps only the head of the distribution', () => {
    const rng = createRng(7);
    for (let i = 0; i < 20; i++) {
      expect(sampleToken(new Float32Array([1, 5, 4.9, 0]), { temperature: 1, topK: 1 }, [], rng)).toBe(1);
      // p(1) ~ 0.52, p(2) ~ 0.47: top-p 0.5 keeps token 1 only
      expect(sampleToken(new Float32Array([-9, 5, 4.9, -9]), { temperature: 1, topP: 0.5 }, [], rng)).toBe(1);
    }
  });

  it('sampling follows the distribution', () => {
    const rng = createRng(3);
    const counts = [0, 0];
    for (let i = 0; i < 2000; i++) counts[sampleToken(new Float32Array([0, Math.log(3)]), { temperature: 1 }, [], rng)]++;
    expect(counts[1] / 2000).toBeGreaterThan(0.7);
    expect(counts[1] / 2000).toBeLessThan(0.8);
  });

  it('repetition penalty lowers seen tokens whatever their sign', () => {
    const l = new Float32Array([2, -2, 1]);
    applyRepetitionPenalty(l, [0, 1, 1], 2);
    expect(Array.from(l)).toEqual([1, -4, 1]);
    expect(argmax(new Float32Array([0, 2, 2]))).toBe(1);
  });
});

describe('stop strings', () => {
  it('holds back a possible stop-string prefix and cuts at the stop', () => {
    const m = new StopStringMatcher(['\nROMEO:']);
    expect(m.push('Hello')).toEqual({ emit: 'Hello', stopped: false });
    expect(m.push(' there\nRO')).toEqual({ emit: ' there', stopped: false });
    expect(m.push('SE')).toEqual({ emit: '\nROSE', stopped: false });
    expect(m.push('\nROMEO: hi')).toEqual({ emit: '', stopped: true });
  });
  it('flush returns held text when generation ends otherwise', () => {
    const m = new StopStringMatcher(['END']);
    expect(m.push('the EN').emit).toBe('the ');
    expect(m.flush()).toBe('EN');
  });
});

describe('top-k selection', () => {
  it('matches a full sort, ties by lower index', async () => {
    const { topKIndices } = await import('../../models/runtime/sampler.ts');
    const rng = createRng(9);
    const l = Float32Array.from({ length: 500 }, () => Math.round(rng() * 50));
    const sorted = Array.from(l.keys()).sort((a, b) => l[b] - l[a] || a - b);
    expect(topKIndices(l, 40)).toEqual(sorted.slice(0, 40));
    expect(topKIndices(l, 1)).toEqual([argmax(l)]);
  });
});
