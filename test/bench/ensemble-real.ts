/**
 * The real-backend mode of `npm run bench:ensemble -- --backend gguf [--tps 10,5] [--turns 12]`:
 * kuroko-tiny's GGUF export through llama.cpp, throttled to a set number of tokens per second
 * (a slow hub model, rehearsed), writes a 4-character improvised scene on the real clock with a
 * simulated performer (45 ms a character). Dead air with lookahead, without and with streaming
 * (the first clause of each line performed as soon as it is written); no fillers and no fallback
 * lines, so the silence is the model's own.
 */
import { fileURLToPath } from 'node:url';
import { createBackend } from '../../hub/llm/create-backend.ts';
import { loadBackendConfig } from '../../hub/llm/load-config.ts';
import { loadShow } from '../../hub/show/load.ts';
import { loadCast, improvSpecFromCue } from '../../hub/ensemble/runtime.ts';
import { realClock } from '../../hub/ensemble/clock.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { percentile } from '../../hub/ensemble/metrics.ts';
import type { TextBackend } from '../../hub/llm/types.ts';

export async function benchRealBackend(o: { backend: string; tps: number[]; turns: number; seed: number }): Promise<void> {
  if (o.backend !== 'gguf') throw new Error(`--backend ${o.backend}: the real-backend mode runs gguf (kuroko-tiny's GGUF export, throttled)`);
  const showFile = fileURLToPath(new URL('../../hub/shows/blade.yaml', import.meta.url));
  const show = loadShow(showFile);
  const scene = show.scenes.find((s) => s.cues.some((c) => c.kind === 'improv'))!;
  const cue = scene.cues.find((c) => c.kind === 'improv')!;
  const spec = { ...improvSpecFromCue(cue, scene.id), beats: [], mustSay: [], minTurns: o.turns, maxTurns: o.turns, maxMinutes: 60 };
  const config = loadBackendConfig(fileURLToPath(new URL('../../deploy/llm/kuroko-tiny-gguf.yaml', import.meta.url)));
  if (config.kind !== 'gguf') throw new Error('deploy/llm/kuroko-tiny-gguf.yaml is not a gguf config');
  console.log(`Kuroko ensemble benchmark, real backend — kuroko-tiny GGUF (llama.cpp, CPU) throttled to a set tokens/s; scene "${scene.id}" (${spec.onStage.length} characters), ${o.turns} turns per run, real clock, simulated performer (45 ms a character), lookahead 2, no fillers, no fallback lines.\n`);
  const head = ['tokens/s', 'streaming', 'turns', 'model turns', 'deadair p50', 'p95', 'max', 'goal', 'streamed', 'first clause ms p50', 'line ms p50'];
  const rows: string[][] = [];
  for (const tps of o.tps) {
    const backend: TextBackend = createBackend({ ...config, tokensPerSecond: tps });
    // Load before timing (the first request would otherwise include the model load).
    for await (const _ of backend.complete({ prompt: 'A:', maxTokens: 1 })) void _;
    for (const stream of [false, true]) {
      const cast = loadCast(show, showFile).map((c) => ({ ...c, latencyBudgetMs: 600_000 }));
      const performer = new SimPerformer(realClock);
      const engine = new ImprovEngine({ cast, backend, clock: realClock, performer, memories: new MemoryBank() }, { seed: o.seed, style: 'play', fillers: false, stream, title: show.title });
      const rec = await engine.run(spec);
      const dead = rec.turns.slice(1).map((t) => t.deadAirMs);
      const firstPart = performer.log.filter((l) => l.part?.index === 0).map((l) => l.endedAt - l.startedAt);
      const lines = rec.turns.map((t) => t.endedAt - t.startedAt);
      const p95 = percentile(dead, 95);
      rows.push([`${tps}`, stream ? 'on' : 'off', `${rec.turns.length}`, `${rec.turns.filter((t) => t.source === 'model').length}`, `${Math.round(percentile(dead, 50))}`, `${Math.round(p95)}`, `${Math.round(Math.max(...dead))}`,
        tps <= 10 ? (p95 <= 300 ? 'met' : 'MISSED') : 'n/a', `${rec.turns.filter((t) => t.streamed).length}`, firstPart.length ? `${Math.round(percentile(firstPart, 50))}` : '-', `${Math.round(percentile(lines, 50))}`]);
    }
    await backend.close?.();
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padStart(w[i]!)).join('  ');
  console.log(fmt(head));
  console.log(w.map((x) => '-'.repeat(x)).join('  '));
  for (const r of rows) console.log(fmt(r));
  console.log('\nDead air in ms (end of a line to the start of the next, the 150 ms natural pause included; first line excluded). goal: p95 <= 300 ms up to 10 tokens/s.');
  console.log('"streamed": lines performed in parts; "first clause ms": how long the first part lasted on stage.');
}
