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

/** Mutates `logits` (a private copy) and returns the chosen token id. */
export function sampleToken(logits: Float32Array, opts: SamplingOptions, seen: Iterable<number>, rng: () => number): number {
  applyRepetitionPenalty(logits, seen, opts.repetitionPenalty ?? 1);
  const temperature = opts.temperature ?? 0.8;
  if (temperature <= 0) return argmax(logits);

  // Candidates sorted by logit; top-k first bounds the work of the sort for large vocabularies.
  const topK = opts.topK && opts.topK > 0 ? Math.min(opts.topK, logits.length) : logits.length;
  let ids = Array.from(logits.keys());
  ids.sort((a, b) => logits[b] - logits[a] || a - b);
  ids = ids.slice(0, topK);

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
