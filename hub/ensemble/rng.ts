/** A small seeded PRNG (mulberry32) and a string hash, so every run with the same seed is the same. */
import { createRng } from '../../models/runtime/sampler.ts';

export type Rng = () => number;

/** The same mulberry32 generator the model runtime samples with. */
export const seeded: (seed: number) => Rng = createRng;

export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); }
  return h >>> 0;
}

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length) % xs.length]!;
}
