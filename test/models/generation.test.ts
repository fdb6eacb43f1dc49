import { describe, expect, it } from 'vitest';
import { adlibPrompt, extractLine, ADLIB_STOP } from '../../models/runtime/index.ts';
import { shippedModel } from './helpers.ts';

const PROMPT = 'ROMEO: But, soft! what light through yonder window breaks?\nJULIET:';
const SAMPLING = { maxNewTokens: 40, temperature: 0.9, topK: 40, topP: 0.95, repetitionPenalty: 1.1 };

describe('generation (shipped int8 model)', () => {
  it('is identical for a fixed seed and differs for another seed', async () => {
    const m = await shippedModel();
    const a = await m.complete(PROMPT, { ...SAMPLING, seed: 7 });
    const b = await m.complete(PROMPT, { ...SAMPLING, seed: 7 });
    const c = await m.complete(PROMPT, { ...SAMPLING, seed: 8 });
    expect(a.tokens).toBeGreaterThan(0);
    expect(b.tokenIds).toEqual(a.tokenIds);
    expect(b.text).toBe(a.text);
    expect(c.tokenIds).not.toEqual(a.tokenIds);
  });

  it('streams pieces that add up to the returned text, with timings', async () => {
    const m = await shippedModel();
    const gen = m.generate(PROMPT, { ...SAMPLING, seed: 1 });
    let streamed = '';
    let r = await gen.next();
    while (!r.done) {
      streamed += r.value.token;
      r = await gen.next();
    }
    expect(streamed).toBe(r.value.text);
    expect(r.value.ttftMs).toBeGreaterThan(0);
    expect(r.value.totalMs).toBeGreaterThanOrEqual(r.value.ttftMs);
    expect(['max_tokens', 'eos']).toContain(r.value.stoppedBy);
  });

  it('respects maxNewTokens and stop strings (stop string not returned)', async () => {
    const m = await shippedModel();
    const r = await m.complete(PROMPT, { ...SAMPLING, maxNewTokens: 5, seed: 3 });
    expect(r.tokens).toBeLessThanOrEqual(5);
    // ask for a long output but stop at the end of the line: every seed must stop there or end
    for (const seed of [1, 2, 3]) {
      const s = await m.complete(PROMPT, { ...SAMPLING, maxNewTokens: 120, seed, stop: ADLIB_STOP });
      expect(s.text).not.toContain('\n');
      if (s.stoppedBy !== 'stop') expect(['eos', 'max_tokens']).toContain(s.stoppedBy);
    }
  });

  it('stops on the time budget', async () => {
    const m = await shippedModel();
    const r = await m.complete(PROMPT, { ...SAMPLING, maxNewTokens: 200, seed: 1, timeBudgetMs: 0 });
    expect(r.stoppedBy).toBe('time');
    expect(r.tokens).toBe(0);
  });

  it('is cancelled by an AbortSignal mid-stream', async () => {
    const m = await shippedModel();
    const ac = new AbortController();
    const gen = m.generate(PROMPT, { ...SAMPLING, maxNewTokens: 200, seed: 1, temperature: 1.2 });
    const gen2 = m.generate(PROMPT, { ...SAMPLING, maxNewTokens: 200, seed: 1, temperature: 1.2, signal: ac.signal });
    let full = await gen.next();
    while (!full.done) full = await gen.next();
    let pieces = 0;
    let r = await gen2.next();
    while (!r.done) {
      if (++pieces === 3) ac.abort();
      r = await gen2.next();
    }
    expect(r.value.stoppedBy).toBe('abort');
    expect(r.value.tokens).toBeLessThan(full.value.tokens);
  });

  it('builds an ad-lib and cuts it to one line for the speaker', async () => {
    const m = await shippedModel();
    const prompt = adlibPrompt({ name: 'ノラ' }, ['ランク\u3000どうして、そんなにじつと眺めていらつしやるの？']);
    const r = await m.complete(prompt, { ...SAMPLING, maxNewTokens: 60, seed: 5, stop: ADLIB_STOP });
    const line = extractLine(r.text, 'ノラ');
    expect(line).not.toContain('\n');
    expect(line.length).toBeLessThanOrEqual(r.text.length);
  });
});
