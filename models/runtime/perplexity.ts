/**
 * Mean next-token cross-entropy of held-out token ids under a loaded model, over
 * non-overlapping windows of the model's context: the "validation loss" in manifests and the
 * int8-vs-fp32 check in the benchmark.
 */
import type { CausalLM } from './causal-lm.ts';

export interface LossResult {
  /** mean negative log-likelihood per predicted token, nats */
  loss: number;
  perplexity: number;
  tokens: number;
}

export function logSoftmaxAt(row: Float32Array, target: number): number {
  let max = -Infinity;
  for (const v of row) if (v > max) max = v;
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  return row[target] - max - Math.log(sum);
}

export async function heldOutLoss(model: CausalLM, ids: readonly number[], maxTokens = Infinity): Promise<LossResult> {
  const window = model.contextLength;
  const limit = Math.min(ids.length, maxTokens);
  let nll = 0;
  let count = 0;
  for (let start = 0; start + 1 < limit; start += window) {
    const chunk = ids.slice(start, Math.min(start + window + 1, limit));
    const logits = await model.forward(chunk.slice(0, -1));
    for (let t = 0; t < logits.length; t++) {
      nll -= logSoftmaxAt(logits[t], chunk[t + 1]);
      count++;
    }
  }
  const loss = nll / count;
  return { loss, perplexity: Math.exp(loss), tokens: count };
}
