/**
 * Start-up benchmark: the compiled build (dist/, what releases ship) against the TypeScript
 * sources through tsx, in the same run:
 *  - CLI start: `kuroko version` and `kuroko validate hub/shows/blade.yaml`, wall time, beside a bare `node -e 0`;
 *  - node process start → `ready` (its retained state on a real Mosquitto), with and without the int8 model;
 *  - node RSS once ready (settled 1.5 s), and its peak, with and without the model.
 * Goals (compiled, with the model): ready ≤ 1 s, RSS ≤ 150 MB.
 * Run: npm run bench:startup [-- --runs N]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { connect } from 'mqtt';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { percentile, table } from './stats.ts';
import { ROOT, KUROKO, SIM_PROFILE } from '../helpers/stage.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const RUNS = Math.max(1, Number(values.runs));
type Runtime = 'dist' | 'tsx';

console.log('building dist/ …');
const b = spawnSync(process.execPath, [join(ROOT, 'bin/build.js')], { stdio: 'inherit' });
if (b.status !== 0) process.exit(1);

const median = (xs: number[]) => percentile(xs, 50);
const env = (rt: Runtime) => ({ ...process.env, KUROKO_RUNTIME: rt, KUROKO_LOG_FORMAT: 'json' });

function wall(args: string[], rt?: Runtime): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env: rt ? env(rt) : process.env, stdio: 'ignore', cwd: ROOT });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

function memOf(pid: number): { rss: number; hwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

const broker = await startMosquitto();
// A real hub (compiled): nodes report `ready` once they hear its heartbeat.
const hub = spawn(process.execPath, [KUROKO, 'hub', '--show', join(ROOT, 'hub/shows/blade.yaml'), '--broker', broker.url, '--http-port', '0',
  '--journal-dir', mkdtempSync(join(tmpdir(), 'kuroko-bench-journal-')), '--log-level', 'warn'], { env: env('dist'), stdio: 'ignore', cwd: ROOT });
const client = connect(broker.url, { clean: true, reconnectPeriod: 0 });
await new Promise<void>((r) => client.once('connect', () => r()));
const readyAt = new Map<string, number>();
client.on('message', (topic, payload) => {
  const node = topic.split('/')[4]!;
  try { if ((JSON.parse(payload.toString()) as { state?: string }).state === 'ready' && !readyAt.has(node)) readyAt.set(node, performance.now()); } catch { /* not ours */ }
});
await client.subscribeAsync('kuroko/v1/blade/node/+/state', { qos: 1 });

let n = 0;
async function nodeStart(rt: Runtime, model: boolean): Promise<{ readyMs: number; rss: number; hwm: number }> {
  const node = `n${++n}`;
  const args = [KUROKO, 'edge', '--show', 'blade', '--node', node, '--profile', SIM_PROFILE, '--broker', broker.url, '--log-level', 'warn', ...(model ? [] : ['--no-model'])];
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { env: env(rt), stdio: ['ignore', 'ignore', 'pipe'], cwd: ROOT });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  try {
    for (;;) {
      if (readyAt.has(node)) break;
      if (child.exitCode !== null) throw new Error(`node exited ${child.exitCode}: ${err}`);
      if (performance.now() - t0 > 60000) throw new Error(`node ${node} not ready in 60 s: ${err}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const readyMs = readyAt.get(node)! - t0;
    await new Promise((r) => setTimeout(r, 1500));
    return { readyMs, ...memOf(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    // clear the retained state so the next node's "ready" is its own
    await client.publishAsync(`kuroko/v1/blade/node/${node}/state`, '', { retain: true, qos: 1 });
  }
}

const bare: number[] = [];
const cli: Record<string, Record<Runtime, number[]>> = { version: { dist: [], tsx: [] }, validate: { dist: [], tsx: [] } };
const nodes: Record<string, Record<Runtime, { readyMs: number; rss: number; hwm: number }[]>> = { 'no model': { dist: [], tsx: [] }, 'int8 model': { dist: [], tsx: [] } };
for (let i = 0; i < RUNS; i++) {
  bare.push(wall(['-e', '0']));
  // Alternate the order so neither runtime always runs on a warmer cache.
  for (const rt of (i % 2 ? ['tsx', 'dist'] : ['dist', 'tsx']) as Runtime[]) {
    cli.version![rt].push(wall([KUROKO, 'version'], rt));
    cli.validate![rt].push(wall([KUROKO, 'validate', 'hub/shows/blade.yaml'], rt));
    nodes['no model']![rt].push(await nodeStart(rt, false));
    nodes['int8 model']![rt].push(await nodeStart(rt, true));
  }
}
client.end(true);
hub.kill('SIGTERM');
await new Promise((r) => (hub.exitCode !== null ? r(null) : hub.once('exit', r)));
await broker.stop();

const f0 = (x: number) => x.toFixed(0);
const rows: (string | number)[][] = [];
rows.push(['node -e 0 (floor)', `${f0(median(bare))} ms`, '', '']);
for (const [k, v] of Object.entries(cli)) {
  rows.push([`CLI: kuroko ${k}`, `${f0(median(v.dist))} ms`, `${f0(median(v.tsx))} ms`, `${(median(v.tsx) / median(v.dist)).toFixed(1)}×`]);
}
for (const [k, v] of Object.entries(nodes)) {
  const m = (rt: Runtime, key: 'readyMs' | 'rss' | 'hwm') => median(v[rt].map((x) => x[key]));
  rows.push([`node start → ready, ${k}`, `${f0(m('dist', 'readyMs'))} ms`, `${f0(m('tsx', 'readyMs'))} ms`, `${(m('tsx', 'readyMs') / m('dist', 'readyMs')).toFixed(1)}×`]);
  rows.push([`node RSS once ready, ${k}`, `${f0(m('dist', 'rss'))} MB`, `${f0(m('tsx', 'rss'))} MB`, '']);
  rows.push([`node peak RSS, ${k}`, `${f0(m('dist', 'hwm'))} MB`, `${f0(m('tsx', 'hwm'))} MB`, '']);
}
console.log(`\nkuroko start-up, median of ${RUNS} runs each (node ${process.version}, ${process.arch})\n`);
console.log(table(['what', 'compiled (dist/)', 'tsx (sources)', 'tsx / compiled'], rows));
const readyMs = median(nodes['int8 model']!.dist.map((x) => x.readyMs));
const rss = median(nodes['int8 model']!.dist.map((x) => x.rss));
console.log(`\ngoal: compiled node start → ready ≤ 1000 ms with the model: ${f0(readyMs)} ms  ${readyMs <= 1000 ? 'PASS' : 'FAIL'}`);
console.log(`goal: compiled node RSS ≤ 150 MB with the model loaded: ${f0(rss)} MB  ${rss <= 150 ? 'PASS' : 'FAIL'}`);
