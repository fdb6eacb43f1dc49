/** Figures of an improvised run: percentiles, repetition, pass@1, emotion precision/recall/F1. */
import type { ImprovRecord } from './improv.ts';
import { isRepeatOf } from './language.ts';

export function percentile(xs: readonly number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i]!;
}

/** Share of lines that repeat an earlier line of the same run (language.ts: words in English, character bigrams in Japanese). */
export function repetitionRate(lines: readonly string[]): number {
  if (lines.length < 2) return 0;
  let rep = 0;
  lines.forEach((l, i) => { if (lines.slice(0, i).some((e) => isRepeatOf(l, e))) rep++; });
  return rep / lines.length;
}

export interface RunFigures {
  turns: number;
  modelTurns: number;
  pass1: number;
  usable1: number;
  /** First answers that were one JSON object of the turn schema as given (constrained turns). */
  structural1: number;
  /** Model turns whose first answer was checked against the schema. */
  structuralAsked: number;
  beatsHit: number;
  beats: number;
  repetition: number;
  deadAir: number[];
  genMs: number[];
  fallbacks: number;
  fillers: number;
  regenerated: number;
}

/** The figures of one run; dead air leaves out the first line (nothing was on stage before it). */
export function runFigures(r: ImprovRecord): RunFigures {
  const asked = r.turns.filter((t) => t.firstStatus !== undefined);
  return {
    turns: r.turns.length,
    modelTurns: asked.length,
    pass1: asked.filter((t) => t.firstStatus === 'valid' && t.firstRightSpeaker).length,
    usable1: asked.filter((t) => t.firstStatus !== 'invalid' && t.firstRightSpeaker).length,
    structural1: asked.filter((t) => t.firstStructural === true).length,
    structuralAsked: asked.filter((t) => t.firstStructural !== undefined).length,
    beatsHit: r.beatsHit.length,
    beats: r.beats.length,
    repetition: repetitionRate(r.turns.map((t) => t.line)),
    deadAir: deadAirSamples(r),
    genMs: asked.map((t) => t.genMs),
    fallbacks: r.stats.fallbacks ?? 0,
    fillers: r.stats.fillers ?? 0,
    regenerated: r.stats.regenerated ?? 0,
  };
}

/**
 * Dead air of a run, a figure a turn: the silence before its line (the first line excluded:
 * nothing was on stage before it), or inside it, between two parts of a streamed line, if longer.
 */
export function deadAirSamples(r: Pick<ImprovRecord, 'turns'>): number[] {
  const out = r.turns.slice(1).map((t) => Math.max(t.deadAirMs, t.midLineGapMs ?? 0));
  const first = r.turns[0]?.midLineGapMs;
  if (first) out.push(first);
  return out;
}

export interface Prf { precision: number; recall: number; f1: number; accuracy: number; perLabel: Record<string, { p: number; r: number; f1: number; n: number }> }

/** Macro precision, recall and F1 over the gold labels. */
export function emotionPrf(pairs: readonly { gold: string; predicted: string }[]): Prf {
  const labels = [...new Set(pairs.map((p) => p.gold))].sort();
  const perLabel: Prf['perLabel'] = {};
  for (const l of labels) {
    const tp = pairs.filter((p) => p.gold === l && p.predicted === l).length;
    const fp = pairs.filter((p) => p.gold !== l && p.predicted === l).length;
    const fn = pairs.filter((p) => p.gold === l && p.predicted !== l).length;
    const p = tp + fp ? tp / (tp + fp) : 0;
    const r = tp + fn ? tp / (tp + fn) : 0;
    perLabel[l] = { p, r, f1: p + r ? (2 * p * r) / (p + r) : 0, n: tp + fn };
  }
  const avg = (k: 'p' | 'r' | 'f1') => labels.reduce((a, l) => a + perLabel[l]![k], 0) / (labels.length || 1);
  return { precision: avg('p'), recall: avg('r'), f1: avg('f1'), accuracy: pairs.filter((p) => p.gold === p.predicted).length / (pairs.length || 1), perLabel };
}
