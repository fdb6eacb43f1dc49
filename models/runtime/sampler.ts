/**
 * Next-token selection from a logits row: repetition penalty, temperature, top-k, top-p, then a
 * draw from a seeded generator so a fixed seed reproduces a generation exactly.
 */

export interface SamplingOptions {
  /** 0 = greedy (argmax). Default 0.8. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = off). */
  topK?: number;
  /** Keep the smallest set whose probability reaches p (1 = off). */
  topP?: number;
  /** CTRL-style penalty (>1 discourages tokens already in prompt or output). 1 = off. */
  repetitionPenalty?: number;
}

/** mulberry32: tiny, fast, and identical on every platform (Math.random is neither seedable nor portable). */
export function createRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(seen)) {
    const v = logits[id];
    logits[id] = v > 0 ? v / penalty : v * penalty;
  }
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * Indices of the k largest logits, largest first (ties: lower index first). One pass with a small
 * sorted buffer: sorting a 32k-256k vocabulary every token would cost more than a small model's step.
 */
export function topKIndices(logits: Float32Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i];
    if (idx.length === k && v <= logits[idx[k - 1]]) continue;
    let j = idx.length < k ? idx.length : k - 1;
    while (j > 0 && logits[idx[j - 1]] < v) j--;
    if (idx.length < k) idx.splice(j, 0, i);
    else {
      idx.splice(j, 0, i);
      idx.pop();
    }
  }
  return idx;
}

/** Mutates `logits` (a private copy) and returns the chosen token id. */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, seen: Iterable<number>, rng: () => number): number {
  applyRepetitionPenalty(logits, seen, opts.repetitionPenalty ?? 1);
  const temperature = opts.temperature ?? 0.8;
  if (temperature <= 0) return argmax(logits);

  let ids: number[];
  if (opts.topK && opts.topK > 0) {
    ids = topKIndices(logits, Math.min(opts.topK, logits.length));
  } else {
    // Tokens more than 30*T below the best have probability < e^-30 of it: drop them before sorting.
    const floor = logits[argmax(logits)] - 30 * temperature;
    ids = [];
    for (let i = 0; i < logits.length; i++) if (logits[i] >= floor) ids.push(i);
    ids.sort((a, b) => logits[b] - logits[a] || a - b);
  }

  const max = logits[ids[0]];
  const weights = ids.map((id) => Math.exp((logits[id] - max) / temperature));
  let total = weights.reduce((s, w) => s + w, 0);

  const topP = opts.topP ?? 1;
  if (topP < 1) {
    let cum = 0;
    let keep = 0;
    while (keep < ids.length && cum / total < topP) cum += weights[keep++];
    ids = ids.slice(0, Math.max(1, keep));
    weights.length = ids.length;
    total = weights.reduce((s, w) => s + w, 0);
  }

  let r = rng() * total;
  for (let i = 0; i < ids.length; i++) {
    r -= weights[i];
    if (r <= 0) return ids[i];
  }
  return ids[ids.length - 1];
}
