import { describe, expect, it } from 'vitest';
import { shippedModel } from './helpers.ts';

/**
 * Tolerance for int8 (dynamic, per-channel weights) against fp32, on the same inputs:
 *  - log-probabilities of fp32's 10 most likely next tokens differ by at most 0.25 nats
 *    (worst position), and by at most 0.05 nats on average;
 *  - the most likely next token agrees on at least 90 % of positions.
 * Measured on the shipped kuroko-tiny: max 0.12, mean 0.021 nats, top-1 agreement 97.8 % (90 tokens).
 */
const MAX_ABS_LOGPROB_DIFF = 0.25;
const MEAN_ABS_LOGPROB_DIFF = 0.05;
const MIN_TOP1_AGREEMENT = 0.9;

const TEXT =
  'HAMLET: To be, or not to be, that is the question: Whether tis nobler in the mind to suffer\n' +
  'OPHELIA: Good my lord, how does your honour for this many a day?\n' +
  'ノラ　あなた、今夜はどちらへいらつしやるの？\nヘルメル　書斎にゐるよ。邪魔をしないでおくれ。\n';

function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Float64Array.from(row, (v) => v - lse);
}

describe('int8 weights against fp32', () => {
  it(`stay within ${MAX_ABS_LOGPROB_DIFF} nats (max) / ${MEAN_ABS_LOGPROB_DIFF} nats (mean) on the top-10 log-probs`, async () => {
    const fp32 = await shippedModel('fp32');
    const int8 = await shippedModel('int8');
    const ids = fp32.encode(TEXT);
    const [a, b] = [await fp32.forward(ids), await int8.forward(ids)];
    let maxDiff = 0, sumDiff = 0, n = 0, agree = 0;
    for (let t = 0; t < ids.length; t++) {
      const la = logSoftmax(a[t]), lb = logSoftmax(b[t]);
      const top = Array.from(la.keys()).sort((i, j) => la[j] - la[i]).slice(0, 10);
      for (const i of top) {
        const d = Math.abs(la[i] - lb[i]);
        maxDiff = Math.max(maxDiff, d);
        sumDiff += d;
        n++;
      }
      if (top[0] === Array.from(lb.keys()).reduce((best, i) => (lb[i] > lb[best] ? i : best), 0)) agree++;
    }
    expect(maxDiff).toBeLessThan(MAX_ABS_LOGPROB_DIFF);
    expect(sumDiff / n).toBeLessThan(MEAN_ABS_LOGPROB_DIFF);
    expect(agree / ids.length).toBeGreaterThanOrEqual(MIN_TOP1_AGREEMENT);
    // int8 must actually be a different (quantized) graph, or this test proves nothing
    expect(maxDiff).toBeGreaterThan(0);
  });
});
