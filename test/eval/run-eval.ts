/**
 * `npm run eval`: the ensemble measured over the scenarios in test/eval/scenarios/ and the
 * labelled lines in test/eval/emotion-labels.jsonl. Deterministic (fixed seeds, virtual clock)
 * with the default mock improviser.
 *
 *   npm run eval [-- --backend mock|onnx|gguf|openai|module:FILE.ts|a,b,c] [--llm FILE] [--fault-rate 0.25] [--json FILE] [--scenario NAME] [--seeds N]
 *
 * onnx, gguf and openai are the real backends of test/eval/real-backends.ts (kuroko-tiny through
 * onnxruntime, its GGUF export through llama.cpp, an OpenAI-compatible server; --llm FILE picks
 * another config), asked for schema-constrained turns and run on the real clock.
 * A module backend exports createBackend(): TextBackend (e.g. wrapping hub/llm's ONNX model);
 * it runs on the real clock, so latencies are measured, not set.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { loadShow } from '../../hub/show/load.ts';
import { loadCast, improvSpecFromCue } from '../../hub/ensemble/runtime.ts';
import { VirtualClock, realClock, type EnsembleClock } from '../../hub/ensemble/clock.ts';
import { MockImproviser, withLatency } from '../../hub/ensemble/mock-backend.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { ImprovEngine, type ImprovRecord } from '../../hub/ensemble/improv.ts';
import { completeText, type TextBackend, type PromptStyle } from '../../hub/ensemble/backend.ts';
import { labelPrompt } from '../../hub/ensemble/prompt.ts';
import { normalizeEmotion, inferEmotion } from '../../hub/ensemble/emotion.ts';
import { runFigures, percentile, emotionPrf, type RunFigures } from '../../hub/ensemble/metrics.ts';
import { EMOTIONS } from '../../hub/ensemble/emotion.ts';
import { realBackend, REAL_BACKENDS, type RealBackend } from './real-backends.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));

interface Scenario { name: string; show: string; scene: string; style?: PromptStyle; latencyMs?: number; seeds?: number[]; override?: Record<string, number> }

const { values } = parseArgs({ options: { backend: { type: 'string', default: 'mock' }, llm: { type: 'string' }, 'fault-rate': { type: 'string' }, json: { type: 'string' }, scenario: { type: 'string' }, seeds: { type: 'string' } } });

// A comma list of backends: one eval per backend, printed side by side.
if (values.backend!.includes(',')) {
  const { compareBackends } = await import('./compare.ts');
  const pass = process.argv.slice(2).filter((a, i, all) => a !== '--backend' && all[i - 1] !== '--backend' && !a.startsWith('--backend=') && a !== '--json' && all[i - 1] !== '--json');
  compareBackends(values.backend!.split(','), pass);
  process.exit(0);
}

async function backendFor(seed: number, clock: EnsembleClock, latencyMs: number): Promise<{ backend: TextBackend; clock: EnsembleClock; virtual: boolean }> {
  const b = values.backend!;
  if (b === 'mock') {
    const mock = new MockImproviser({ seed, ...(values['fault-rate'] ? { faultRate: Number(values['fault-rate']) } : {}) });
    return { backend: withLatency(mock, latencyMs, clock, 0.3), clock, virtual: true };
  }
  if (REAL_BACKENDS.includes(b)) return { backend: (await realBackend(b, values.llm)).backend, clock: realClock, virtual: false };
  if (b.startsWith('module:')) {
    const mod = await import(pathToFileURL(resolve(b.slice(7))).href) as { createBackend?: (o: { seed: number }) => TextBackend | Promise<TextBackend>; default?: TextBackend };
    const backend = mod.createBackend ? await mod.createBackend({ seed }) : mod.default;
    if (!backend) throw new Error(`${b}: export createBackend() or a default TextBackend`);
    return { backend, clock: realClock, virtual: false };
  }
  throw new Error(`unknown --backend ${b} (mock, ${REAL_BACKENDS.join(', ')}, or module:FILE.ts)`);
}

const scenarios: Scenario[] = readdirSync(join(HERE, 'scenarios')).filter((f) => f.endsWith('.yaml')).sort()
  .map((f) => parse(readFileSync(join(HERE, 'scenarios', f), 'utf8')) as Scenario)
  .filter((s) => !values.scenario || s.name === values.scenario);

const real: RealBackend | undefined = REAL_BACKENDS.includes(values.backend!) ? await realBackend(values.backend!, values.llm) : undefined;
const rows: { name: string; f: RunFigures[]; records: ImprovRecord[] }[] = [];
for (const sc of scenarios) {
  const showFile = resolve(ROOT, sc.show);
  const show = loadShow(showFile);
  const scene = show.scenes.find((s) => s.id === sc.scene);
  const cue = scene?.cues.find((c) => c.kind === 'improv');
  if (!cue) throw new Error(`${sc.name}: no improv cue in scene ${sc.scene} of ${sc.show}`);
  const f: RunFigures[] = [];
  const records: ImprovRecord[] = [];
  // --seeds N runs only the first N seeds (a real model on the real clock takes minutes per run).
  for (const seed of (sc.seeds ?? [1]).slice(0, values.seeds ? Number(values.seeds) : undefined)) {
    const vclock = new VirtualClock();
    const { backend, clock, virtual } = await backendFor(seed, vclock, sc.latencyMs ?? 600);
    const spec = { ...improvSpecFromCue(cue, sc.scene), ...(sc.override ?? {}) };
    // A real backend is asked in the style its config names (a play model continues a script).
    const style = real ? real.style : sc.style ?? 'play';
    const engine = new ImprovEngine({ cast: loadCast(show, showFile), backend, clock, performer: new SimPerformer(clock), memories: new MemoryBank() }, { seed, style, title: show.title });
    const run = engine.run(spec);
    const rec = virtual ? await vclock.run(run) : await run;
    records.push(rec);
    f.push(runFigures(rec));
  }
  rows.push({ name: sc.name, f, records });
}

const LABEL_SCHEMA = { type: 'object', properties: { emotion: { type: 'string', enum: [...EMOTIONS] } }, required: ['emotion'], additionalProperties: false };

// Emotion labels, per language: the backend labels each line; an unknown label falls back to the lexicon.
// emotion-labels.jsonl is English; emotion-labels.<lang>.jsonl holds another language (ja).
const labelFiles = readdirSync(HERE).filter((f) => /^emotion-labels(\.[a-z]{2})?\.jsonl$/.test(f)).sort((a, b) => a.length - b.length || a.localeCompare(b)); // English first
const emotionByLanguage: { language: string; file: string; n: number; backend: ReturnType<typeof emotionPrf>; lexicon: ReturnType<typeof emotionPrf> }[] = [];
for (const file of labelFiles) {
  const language = /^emotion-labels\.([a-z]{2})\.jsonl$/.exec(file)?.[1] ?? 'en';
  const labelled = readFileSync(join(HERE, file), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { text: string; emotion: string });
  const emoClock = new VirtualClock();
  const { backend: labeller, virtual: labelVirtual } = await backendFor(1, emoClock, 200);
  const pairs: { gold: string; predicted: string }[] = [];
  for (const l of labelled) {
    // A real backend answers under a one-field schema: the label is always one of the enum.
    const req = { ...labelPrompt(real?.style ?? 'play', l.text), maxTokens: 8, temperature: 0, seed: 1, ...(real ? { responseSchema: LABEL_SCHEMA } : {}) };
    const raw = labelVirtual ? await emoClock.run(completeText(labeller, req)) : await completeText(labeller, req);
    const label = /[\p{L}]+/u.exec(raw.replace(/.*"emotion"\s*:\s*"/s, ''))?.[0];
    pairs.push({ gold: l.emotion, predicted: normalizeEmotion(label) ?? inferEmotion(l.text).emotion });
  }
  emotionByLanguage.push({ language, file, n: labelled.length, backend: emotionPrf(pairs), lexicon: emotionPrf(labelled.map((l) => ({ gold: l.emotion, predicted: inferEmotion(l.text).emotion }))) });
}
const tokensPerSecond = real && real.meter.ms > 0 ? (1000 * real.meter.tokens) / real.meter.ms : NaN;

// ---- the table -------------------------------------------------------------------------
const sum = (f: RunFigures[], k: keyof RunFigures) => f.reduce((a, x) => a + (x[k] as number), 0);
const pct = (n: number, d: number) => (d ? `${((100 * n) / d).toFixed(1)}%` : '-');
const ms = (x: number) => (Number.isNaN(x) ? '-' : `${Math.round(x)}`);
const head = ['scenario', 'runs', 'turns', 'struct@1', 'content@1', 'usable@1', 'regen', 'fallback', 'fillers', 'beats', 'repeat', 'deadair p50', 'p95', 'turn ms p50', 'p95'];
const table = rows.map(({ name, f }) => {
  const dead = f.flatMap((x) => x.deadAir);
  const gen = f.flatMap((x) => x.genMs);
  const asked = sum(f, 'modelTurns');
  return [name, `${f.length}`, `${sum(f, 'turns')}`, pct(sum(f, 'structural1'), sum(f, 'structuralAsked')), pct(sum(f, 'pass1'), asked), pct(sum(f, 'usable1'), asked), `${sum(f, 'regenerated')}`, `${sum(f, 'fallbacks')}`, `${sum(f, 'fillers')}`,
    `${sum(f, 'beatsHit')}/${sum(f, 'beats')}`, pct(f.reduce((a, x) => a + x.repetition * x.turns, 0), sum(f, 'turns')), ms(percentile(dead, 50)), ms(percentile(dead, 95)), ms(percentile(gen, 50)), ms(percentile(gen, 95))];
});
const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(`Kuroko ensemble eval — backend ${values.backend}${values.backend === 'mock' ? ' (deterministic mock improviser, set latency per scenario, virtual clock)' : ''}\n`);
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of table) console.log(line(r));
console.log(`\nstruct@1: first answer was one JSON object of the turn schema as given (the mock ignores the schema: it plays an unconstrained weak model); content@1: first answer used as written (no repair), from the right on-stage speaker; usable@1: valid or repaired. Dead air in ms, first line excluded.`);
if (real) console.log(`Backend ${real.backend.name} (${real.file}): ${real.meter.tokens} tokens streamed, ${Number.isNaN(tokensPerSecond) ? '-' : tokensPerSecond.toFixed(1)} tokens/s while generating.`);
for (const e of emotionByLanguage) {
  console.log(`\nEmotion labels, ${e.language} (${e.n} labelled lines, test/eval/${e.file}), macro over ${Object.keys(e.backend.perLabel).length} labels:`);
  console.log(`  backend ${values.backend.padEnd(8)} precision ${e.backend.precision.toFixed(3)}  recall ${e.backend.recall.toFixed(3)}  F1 ${e.backend.f1.toFixed(3)}  accuracy ${e.backend.accuracy.toFixed(3)}`);
  console.log(`  lexicon only     precision ${e.lexicon.precision.toFixed(3)}  recall ${e.lexicon.recall.toFixed(3)}  F1 ${e.lexicon.f1.toFixed(3)}  accuracy ${e.lexicon.accuracy.toFixed(3)}`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ backend: values.backend, tokensPerSecond, scenarios: rows.map((r) => ({ name: r.name, figures: r.f })), emotion: Object.fromEntries(emotionByLanguage.map((e) => [e.language, { backend: e.backend, lexicon: e.lexicon }])) }, null, 2));

await real?.backend.close?.();
