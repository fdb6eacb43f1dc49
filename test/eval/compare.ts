/**
 * `npm run eval -- --backend mock,onnx,gguf [--seeds 1]`: runs the eval once per backend (each in
 * its own process, figures written with --json) and prints them side by side.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile, type Prf, type RunFigures } from '../../hub/ensemble/metrics.ts';

/** What `run-eval.ts --json` writes (emotion P/R/F1 per language of the labelled sets: en, ja). */
export interface EvalJson { backend: string; tokensPerSecond?: number; scenarios: { name: string; figures: RunFigures[] }[]; emotion: Record<string, { backend: Prf; lexicon: Prf }> }

export function compareBackends(backends: string[], passArgs: string[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-eval-'));
  const runEval = fileURLToPath(new URL('./run-eval.ts', import.meta.url));
  const runTs = fileURLToPath(new URL('../../bin/run-ts.js', import.meta.url));
  const results: EvalJson[] = backends.map((b) => {
    const file = join(dir, `${b.replace(/[^\w-]/g, '_')}.json`);
    console.log(`running the eval with --backend ${b} ...`);
    execFileSync(process.execPath, [runTs, runEval, '--backend', b, '--json', file, ...passArgs], { stdio: ['ignore', 'ignore', 'inherit'] });
    return JSON.parse(readFileSync(file, 'utf8')) as EvalJson;
  });
  console.log(formatComparison(results));
  console.log('\nstruct@1: first answer one JSON object of the turn schema as given (the mock ignores the schema); content@1: first answer used as written; dead air in ms.');
}

/** The side-by-side table (all scenarios together; emotion F1 per language). */
export function formatComparison(results: EvalJson[]): string {
  const languages = [...new Set(results.flatMap((r) => Object.keys(r.emotion)))];
  const head = ['backend', 'turns', 'struct@1', 'content@1', 'fallbacks', 'beats', 'repeat', 'deadair p50', 'p95', 'tokens/s', ...languages.map((l) => `emotion F1 ${l}`)];
  const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');
  const rows = results.map((r) => {
    const f = r.scenarios.flatMap((s) => s.figures);
    const sum = (k: keyof RunFigures) => f.reduce((a, x) => a + (x[k] as number), 0);
    const dead = f.flatMap((x) => x.deadAir);
    return [r.backend, `${sum('turns')}`, pct(sum('structural1'), sum('structuralAsked')), pct(sum('pass1'), sum('modelTurns')), `${sum('fallbacks')}`, `${sum('beatsHit')}/${sum('beats')}`,
      pct(f.reduce((a, x) => a + x.repetition * x.turns, 0), sum('turns')), `${Math.round(percentile(dead, 50))}`, `${Math.round(percentile(dead, 95))}`,
      r.tokensPerSecond && Number.isFinite(r.tokensPerSecond) ? r.tokensPerSecond.toFixed(1) : '-',
      ...languages.map((l) => r.emotion[l]?.backend.f1.toFixed(3) ?? '-')];
  });
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join('  ');
  return [`\nKuroko ensemble eval — backends side by side (all scenarios together)\n`, fmt(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(fmt)].join('\n');
}
