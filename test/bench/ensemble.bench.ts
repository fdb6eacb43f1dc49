/**
 * `npm run bench:ensemble`: a 12-character improvised scene over N turns against a backend of set
 * latency (time per turn), in process with a simulated performer (a line lasts 45 ms a character,
 * as the sim voice) on a virtual clock — so it is fast and deterministic. Dead air (silence from
 * the end of a line to whatever comes next, the 150 ms natural pause included) at p50/p95,
 * without lookahead and with it; then with lookahead plus fillers and the latency budget.
 *
 *   npm run bench:ensemble [-- --turns 200] [--latencies 250,500,1000,1500,2000,2250,2500,3000,4000] [--fault-rate 0.1]
 *   npm run bench:ensemble -- --backend gguf [--tps 10,20] [--turns 12]   (a real model: see ensemble-real.ts)
 */
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { loadShow } from '../../hub/show/load.ts';
import { loadCast } from '../../hub/ensemble/runtime.ts';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { MockImproviser, withLatency } from '../../hub/ensemble/mock-backend.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { percentile } from '../../hub/ensemble/metrics.ts';
import type { ImprovSpec } from '../../hub/ensemble/director.ts';

const { values } = parseArgs({ options: { backend: { type: 'string' }, tps: { type: 'string', default: '10,20' }, turns: { type: 'string', default: '200' }, latencies: { type: 'string', default: '250,500,1000,1500,2000,2250,2500,3000,4000' }, 'fault-rate': { type: 'string', default: '0.1' }, seed: { type: 'string', default: '1' } } });
if (values.backend && values.backend !== 'mock') {
  const { benchRealBackend } = await import('./ensemble-real.ts');
  await benchRealBackend({ backend: values.backend, tps: values.tps!.split(',').map(Number), turns: values.turns === '200' ? 12 : Number(values.turns), seed: Number(values.seed) });
  process.exit(0);
}
const N = Number(values.turns);
const showFile = fileURLToPath(new URL('../../hub/shows/twelve.yaml', import.meta.url));
const show = loadShow(showFile);
const spec: ImprovSpec = {
  id: 'bench', premise: 'A storm has put out the great lamp of the lighthouse. Twelve people are trapped inside and a ship is out at sea.',
  onStage: show.cast.map((c) => c.id), beats: [], mustSay: [], maxTurns: N, minTurns: N, maxMinutes: 600,
};

async function run(latencyMs: number, lookahead: boolean, fillers: boolean, budgetMs: number) {
  const clock = new VirtualClock();
  const cast = loadCast(show, showFile).map((c) => ({ ...c, latencyBudgetMs: budgetMs }));
  const performer = new SimPerformer(clock);
  const backend = withLatency(new MockImproviser({ seed: Number(values.seed), faultRate: Number(values['fault-rate']) }), latencyMs, clock, 0.3);
  const engine = new ImprovEngine({ cast, backend, clock, performer, memories: new MemoryBank() }, { lookahead, fillers, seed: Number(values.seed) });
  const t = performance.now();
  const rec = await clock.run(engine.run(spec));
  const dead = rec.turns.slice(1).map((x) => x.deadAirMs);
  const lineMs = rec.turns.map((x) => x.endedAt - x.startedAt);
  return { dead, avgLine: lineMs.reduce((a, b) => a + b, 0) / lineMs.length, fallbacks: rec.stats.fallbacks ?? 0, fillers: rec.stats.fillers ?? 0, regen: rec.stats.regenerated ?? 0, cpuMs: performance.now() - t, speakers: new Set(rec.turns.map((x) => x.speaker)).size };
}

const lat = values.latencies!.split(',').map(Number);
console.log(`Kuroko ensemble benchmark — 12 characters, ${N} turns per run, mock improviser (fault rate ${values['fault-rate']}) at a set time per turn; simulated performer, virtual clock.`);
console.log('Dead air = silence from the end of a line to the next line or filler, natural 150 ms pause included; ms.\n');
const head = ['backend ms/turn', 'avg line ms', 'no lookahead p50', 'p95', 'lookahead p50', 'p95', 'goal', '+fillers p95', 'fillers', 'fallbacks', 'regens'];
const rows: string[][] = [];
let cpu = 0;
for (const L of lat) {
  const off = await run(L, false, false, 1e9);
  const on = await run(L, true, false, 1e9);
  const fill = await run(L, true, true, 1500);
  cpu += off.cpuMs + on.cpuMs + fill.cpuMs;
  const p95 = percentile(on.dead, 95);
  const below = L < on.avgLine;
  rows.push([`${L}`, `${Math.round(on.avgLine)}`, `${Math.round(percentile(off.dead, 50))}`, `${Math.round(percentile(off.dead, 95))}`, `${Math.round(percentile(on.dead, 50))}`, `${Math.round(p95)}`,
    below ? (p95 <= 300 ? 'met' : 'MISSED') : 'n/a', `${Math.round(percentile(fill.dead, 95))}`, `${fill.fillers}`, `${fill.fallbacks}`, `${on.regen}`]);
}
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const fmt = (r: string[]) => r.map((c, i) => c.padStart(w[i]!)).join('  ');
console.log(fmt(head));
console.log(w.map((x) => '-'.repeat(x)).join('  '));
for (const r of rows) console.log(fmt(r));
console.log(`\ngoal: p95 dead air ≤ 300 ms with lookahead whenever the backend's time per turn is below the average line ("n/a" where it is not).`);
console.log(`+fillers: lookahead with the "think" filler and a 1500 ms latency budget per character (then a fallback line).`);
console.log(`${lat.length * 3} runs of ${N} turns in ${(cpu / 1000).toFixed(1)} s of CPU.`);
