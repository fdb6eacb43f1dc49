/**
 * Start-up benchmark: the compiled build (dist/, what releases ship) against two same-run
 * baselines: the compiled build with its schema validators compiled at start
 * (KUROKO_VALIDATORS=runtime, how dist/ started before the build precompiled them), and the
 * TypeScript sources through tsx:
 *  - CLI start: `kuroko version` and `kuroko validate hub/shows/blade.yaml`, wall time, beside a bare `node -e 0`;
 *  - node process start → `ready` (its retained state on a real Mosquitto), with and without the int8 model,
 *    wall time and the node's own CPU time until then (user + system, from /proc: less sensitive to a
 *    shared machine than wall time);
 *  - node RSS once ready (settled 1.5 s), and its peak, with and without the model.
 * Nodes start as deploy/systemd/kuroko-edge.service and the demo start them (--max-semi-space-size=1);
 * one more compiled node with the model starts with V8's default young generation, which is what
 * this bench measured before (161 MB) while bench:model measured the flagged node (121–126 MiB).
 * Goals (compiled, with the model): ready ≤ 1 s, RSS ≤ 150 MB.
 * Run: npm run bench:startup [-- --runs N]
 */
// Node processes keep their e-stop latch in a var dir of this run only: one left latched by an earlier run must not hold these e-stopped.
import '../helpers/isolated-var-dir.ts';
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
type Runtime = 'dist' | 'dist-rt' | 'tsx';
const RUNTIMES: Runtime[] = ['dist', 'dist-rt', 'tsx'];
/** The node flags of deploy/systemd/kuroko-edge.service and the demo (hub/demo.ts). */
const PRODUCTION_FLAGS = ['--max-semi-space-size=1'];

console.log('building dist/ …');
const b = spawnSync(process.execPath, [join(ROOT, 'bin/build.js')], { stdio: 'inherit' });
if (b.status !== 0) process.exit(1);

const median = (xs: number[]) => percentile(xs, 50);
const env = (rt: Runtime) => ({ ...process.env, KUROKO_RUNTIME: rt === 'tsx' ? 'tsx' : 'dist', KUROKO_LOG_FORMAT: 'json', KUROKO_VALIDATORS: rt === 'dist-rt' ? 'runtime' : 'precompiled' });

function wall(args: string[], rt?: Runtime): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env: rt ? env(rt) : process.env, stdio: 'ignore', cwd: ROOT });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

/** CPU time the process has used so far (user + system), ms. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

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
interface NodeFigures { readyMs: number; cpuMs: number; rss: number; hwm: number }
async function nodeStart(rt: Runtime, model: boolean, flags = PRODUCTION_FLAGS): Promise<NodeFigures> {
  const node = `n${++n}`;
  const args = [...flags, KUROKO, 'edge', '--show', 'blade', '--node', node, '--profile', SIM_PROFILE, '--broker', broker.url, '--insecure', '--log-level', 'warn', ...(model ? [] : ['--no-model'])];
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
    const cpuMs = cpuOf(child.pid!);
    await new Promise((r) => setTimeout(r, 1500));
    return { readyMs, cpuMs, ...memOf(child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    // clear the retained state so the next node's "ready" is its own
    await client.publishAsync(`kuroko/v1/blade/node/${node}/state`, '', { retain: true, qos: 1 });
  }
}

const bare: number[] = [];
const per = <T>(): Record<Runtime, T[]> => ({ dist: [], 'dist-rt': [], tsx: [] });
const cli: Record<string, Record<Runtime, number[]>> = { version: per(), validate: per() };
const nodes: Record<string, Record<Runtime, NodeFigures[]>> = { 'no model': per(), 'int8 model': per() };
const defaultYoung: NodeFigures[] = [];
for (let i = 0; i < RUNS; i++) {
  bare.push(wall(['-e', '0']));
  // Rotate the order so no runtime always runs on a warmer cache.
  for (const rt of RUNTIMES.map((_, k) => RUNTIMES[(k + i) % RUNTIMES.length]!)) {
    cli.version![rt].push(wall([KUROKO, 'version'], rt));
    cli.validate![rt].push(wall([KUROKO, 'validate', 'hub/shows/blade.yaml'], rt));
    nodes['no model']![rt].push(await nodeStart(rt, false));
    nodes['int8 model']![rt].push(await nodeStart(rt, true));
  }
  defaultYoung.push(await nodeStart('dist', true, []));
}
client.end(true);
hub.kill('SIGTERM');
await new Promise((r) => (hub.exitCode !== null ? r(null) : hub.once('exit', r)));
await broker.stop();

const f0 = (x: number) => x.toFixed(0);
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}×`;
const rows: (string | number)[][] = [];
rows.push(['node -e 0 (floor)', `${f0(median(bare))} ms`, '', '', '']);
for (const [k, v] of Object.entries(cli)) {
  const m = (rt: Runtime) => median(v[rt]);
  rows.push([`CLI: kuroko ${k}`, `${f0(m('dist'))} ms`, `${f0(m('dist-rt'))} ms (${ratio(m('dist-rt'), m('dist'))})`, `${f0(m('tsx'))} ms (${ratio(m('tsx'), m('dist'))})`]);
}
for (const [k, v] of Object.entries(nodes)) {
  const m = (rt: Runtime, key: keyof NodeFigures) => median(v[rt].map((x) => x[key]));
  const row = (what: string, key: keyof NodeFigures, unit: string, ratios: boolean) =>
    rows.push([`node ${what}, ${k}`, `${f0(m('dist', key))} ${unit}`, `${f0(m('dist-rt', key))} ${unit}${ratios ? ` (${ratio(m('dist-rt', key), m('dist', key))})` : ''}`, `${f0(m('tsx', key))} ${unit}${ratios ? ` (${ratio(m('tsx', key), m('dist', key))})` : ''}`]);
  row('start → ready', 'readyMs', 'ms', true);
  row('CPU until ready', 'cpuMs', 'ms', true);
  row('RSS once ready', 'rss', 'MB', false);
  row('peak RSS', 'hwm', 'MB', false);
}
const dy = (key: keyof NodeFigures) => median(defaultYoung.map((x) => x[key]));
rows.push(['node RSS once ready, int8 model, V8 default young generation (no --max-semi-space-size=1)', `${f0(dy('rss'))} MB`, '', '']);
console.log(`\nkuroko start-up, median of ${RUNS} runs each (node ${process.version}, ${process.arch}; nodes started with ${PRODUCTION_FLAGS.join(' ')} as in production)\n`);
console.log(table(['what', 'compiled (dist/)', 'compiled, validators compiled at start', 'tsx (sources)'], rows));
const readyMs = median(nodes['int8 model']!.dist.map((x) => x.readyMs));
const rss = median(nodes['int8 model']!.dist.map((x) => x.rss));
console.log(`\ngoal: compiled node start → ready ≤ 1000 ms with the model: ${f0(readyMs)} ms  ${readyMs <= 1000 ? 'PASS' : 'FAIL'} (a bare node -e 0 took ${f0(median(bare))} ms in this run)`);
console.log(`goal: compiled node RSS ≤ 150 MB with the model loaded: ${f0(rss)} MB  ${rss <= 150 ? 'PASS' : 'FAIL'}`);
