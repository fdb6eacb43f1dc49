/**
 * `npm run bench:soak`: the hub's heap over a long run (a benchmark, not a test). A hub in this
 * process on its embedded broker, real node processes, a scene started every `--every` seconds
 * for `--minutes` minutes (default 60 and 20, as the goal says). The heap is measured after a
 * full GC, once a minute; the growth after the warm-up (the first `--warmup` minutes) is printed
 * with the goal (≤ +5 MB) marked PASS or FAIL.
 *   npm run bench:soak -- --minutes 10 --every 5     (a quicker look)
 */
// Node processes keep their e-stop latch in a var dir of this run only: one left latched by an earlier run must not hold these e-stopped.
import '../helpers/isolated-var-dir.ts';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { attachEnsemble } from '../../hub/ensemble/runtime.ts';
import { spawnEdge, stopChild, ROOT } from '../helpers/stage.ts';
import { waitFor } from '../helpers/wait.ts';

const { values } = parseArgs({ options: { minutes: { type: 'string', default: '60' }, every: { type: 'string', default: '20' }, warmup: { type: 'string' } } });
const minutes = Number(values.minutes);
const everyS = Number(values.every);
const warmup = Number(values.warmup ?? Math.max(1, Math.min(10, Math.round(minutes / 6))));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => { gc(); gc(); return process.memoryUsage().heapUsed / 1024 / 1024; };

const show = loadShow(join(ROOT, 'test/fixtures/quick-show.yaml'));
const hub = new Hub({ show, port: 0, logger: pino({ level: 'silent' }), journalDir: mkdtempSync(join(tmpdir(), 'kuroko-soak-')) });
attachEnsemble(hub, {});
await hub.start();
const edges = show.cast.map((c) => spawnEdge(show.show, c.node, hub.brokerUrl, ['--no-model']));
await waitFor('every node ready', () => show.cast.every((c) => hub.registry.get(c.node)?.state === 'ready'), 120000);
await hub.console.run('arm');
const scenes = ['hello', 'rounds'];
let n = 0;
const timer = setInterval(() => { void hub.console.run('scene/start', { scene: scenes[n++ % scenes.length]! }); }, everyS * 1000);
const samples: { minute: number; heapMb: number; lines: number }[] = [];
const t0 = Date.now();
for (let m = 0; m <= minutes; m++) {
  const wait = t0 + m * 60000 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  samples.push({ minute: m, heapMb: heapMb(), lines: hub.transcript.length });
  process.stderr.write(`  minute ${m}: heap ${samples.at(-1)!.heapMb.toFixed(2)} MB, ${n} scenes started\n`);
}
clearInterval(timer);
await Promise.all(edges.map(stopChild));
await hub.stop();

const base = samples.find((s) => s.minute === warmup) ?? samples[0]!;
const end = samples.at(-1)!;
const growth = end.heapMb - base.heapMb;
const perMin = growth / Math.max(1, end.minute - base.minute);
console.log(`\nHub heap over ${minutes} min, a scene every ${everyS} s (${n} scenes), measured after a full GC`);
console.log('| minute | heap MB |');
console.log('|---|---|');
for (const s of samples) console.log(`| ${s.minute} | ${s.heapMb.toFixed(2)} |`);
// A shorter run is judged on its rate, as if it had gone on for the hour.
const hourMb = minutes >= 60 ? growth : perMin * 60;
console.log(`\nafter the ${warmup}-minute warm-up: ${growth >= 0 ? '+' : ''}${growth.toFixed(2)} MB (${perMin.toFixed(3)} MB/min) — goal ≤ +5 MB over an hour: ${hourMb <= 5 ? 'PASS' : 'FAIL'}${minutes < 60 ? ` (this run is ${minutes} min; an hour at this rate: ${hourMb.toFixed(1)} MB)` : ''}`);
process.exit(0);
