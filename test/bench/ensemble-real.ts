/**
 * The real-backend mode of `npm run bench:ensemble -- --backend gguf [--tps 10,20] [--turns 12]`:
 * kuroko-tiny's GGUF export through llama.cpp, throttled to a set number of decoding steps per
 * second (a slow hub model, rehearsed), writes a 4-character improvised scene on the real clock
 * with a simulated performer (the measured English speaking rate, 69 ms a character; parts of a
 * streamed line are queued and spoken back to back, as a node does). Per rate, four runs of the
 * same scene: streaming off and on, each with jump-forward decoding off (every token of the JSON
 * sampled one at a time: the baseline) and on (the default). No fillers and no
 * fallback lines, so the silence is the model's own. Dead air counts the silence before each line
 * and the silence inside a streamed line between two of its parts, whichever is longer.
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
import { percentile, deadAirSamples } from '../../hub/ensemble/metrics.ts';
import type { TextBackend } from '../../hub/llm/types.ts';
import { FORCED_TOKEN_STEPS } from '../../hub/llm/gguf-masked.ts';

export async function benchRealBackend(o: { backend: string; tps: number[]; turns: number; seed: number }): Promise<void> {
  if (o.backend !== 'gguf') throw new Error(`--backend ${o.backend}: the real-backend mode runs gguf (kuroko-tiny's GGUF export, throttled)`);
  const showFile = fileURLToPath(new URL('../../hub/shows/blade.yaml', import.meta.url));
  const show = loadShow(showFile);
  const scene = show.scenes.find((s) => s.cues.some((c) => c.kind === 'improv'))!;
  const cue = scene.cues.find((c) => c.kind === 'improv')!;
  const spec = { ...improvSpecFromCue(cue, scene.id), beats: [], mustSay: [], minTurns: o.turns, maxTurns: o.turns, maxMinutes: 60 };
  const config = loadBackendConfig(fileURLToPath(new URL('../../deploy/llm/kuroko-tiny-gguf.yaml', import.meta.url)));
  if (config.kind !== 'gguf') throw new Error('deploy/llm/kuroko-tiny-gguf.yaml is not a gguf config');
  console.log(`Kuroko ensemble benchmark, real backend — kuroko-tiny GGUF (llama.cpp, CPU) throttled to a set decoding rate; scene "${scene.id}" (${spec.onStage.length} characters), ${o.turns} turns per run, real clock, simulated performer (69 ms a character), lookahead 2, no fillers, no fallback lines.\n`);
  const head = ['tokens/s', 'streaming', 'jump-fwd', 'turns', 'model turns', 'deadair p50', 'p95', 'max', 'goal', 'streamed', 'parts p50', 'mid-line gap max', 'first part ms p50', 'line ms p50', 'first line at ms'];
  const rows: string[][] = [];
  const modes = [{ stream: false, jump: false }, { stream: false, jump: true }, { stream: true, jump: false }, { stream: true, jump: true }];
  for (const tps of o.tps) {
    for (const mode of modes) {
      const backend: TextBackend = createBackend({ ...config, tokensPerSecond: tps, jumpForward: mode.jump });
      // Load before timing (the first request would otherwise include the model load).
      for await (const _ of backend.complete({ prompt: 'A:', maxTokens: 1 })) void _;
      const cast = loadCast(show, showFile).map((c) => ({ ...c, latencyBudgetMs: 600_000 }));
      const performer = new SimPerformer(realClock);
      const engine = new ImprovEngine({ cast, backend, clock: realClock, performer, memories: new MemoryBank() }, { seed: o.seed, style: 'play', fillers: false, stream: mode.stream, title: show.title });
      const rec = await engine.run(spec);
      await backend.close?.();
      const dead = deadAirSamples(rec);
      const streamed = rec.turns.filter((t) => t.streamed);
      const firstPart = performer.log.filter((l) => l.part?.index === 0).map((l) => l.endedAt - l.startedAt);
      const lines = rec.turns.map((t) => t.endedAt - t.startedAt);
      const p95 = percentile(dead, 95);
      rows.push([`${tps}`, mode.stream ? 'on' : 'off', mode.jump ? 'on' : 'off', `${rec.turns.length}`, `${rec.turns.filter((t) => t.source === 'model').length}`, `${Math.round(percentile(dead, 50))}`, `${Math.round(p95)}`, `${Math.round(Math.max(...dead))}`,
        tps <= 10 ? (p95 <= 300 ? 'met' : 'MISSED') : 'n/a', `${streamed.length}`, streamed.length ? `${percentile(streamed.map((t) => t.parts ?? 1), 50)}` : '-',
        streamed.length ? `${Math.round(Math.max(...streamed.map((t) => t.midLineGapMs ?? 0)))}` : '-', firstPart.length ? `${Math.round(percentile(firstPart, 50))}` : '-', `${Math.round(percentile(lines, 50))}`, `${Math.round((rec.turns[0]?.startedAt ?? rec.endedAt) - rec.startedAt)}`]);
    }
  }
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padStart(w[i]!)).join('  ');
  console.log(fmt(head));
  console.log(w.map((x) => '-'.repeat(x)).join('  '));
  for (const r of rows) console.log(fmt(r));
  console.log('\nDead air in ms, a figure a turn: the silence from the end of a line to the start of the next (the 150 ms natural pause included; first line excluded), or the longest silence between two parts of a streamed line if longer. goal: p95 <= 300 ms up to 10 tokens/s.');
  console.log('"streamed": lines performed in parts; "parts": parts a streamed line; "mid-line gap": longest silence inside a streamed line; "first part ms": how long the first part lasted on stage; "first line at": from the scene\'s start to its first word.');
  console.log(`Throttle: one step per sampled token; jump-forward evaluates a forced run as one batch, charged ${FORCED_TOKEN_STEPS} step a token (prompt processing is several times faster per token than generation).`);
}
