/**
 * `kuroko demo` (and `npm start`): the embedded broker and the hub in this process, one simulated
 * edge node per cast member as a child process, and the show performed scene by scene with the
 * live transcript and node states printed. Another terminal can drive it with mosquitto_pub.
 */
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { createLogger } from '../bin/log.ts';
import { loadShow } from './show/load.ts';
import { Hub } from './hub.ts';
import { parsePort } from './cli.ts';
import { transcriptToSrt } from './srt.ts';
import { WEB_OPTIONS, WEB_HELP, parseWebFlags, startWebOrStopHub, describeWeb } from './web/start.ts';
import type { TranscriptLineT } from '../protocol/index.ts';
import type { NodeInfo } from './registry.ts';
import type { Report } from './playback.ts';
import { attachEnsemble } from './ensemble/runtime.ts';
import { LLM_OPTIONS, LLM_HELP, setupModel } from './llm/cli-options.ts';
import type { CouncilResult } from './ensemble/council.ts';
import type { StageReport } from './ensemble/stage.ts';

export const DEMO_HELP = `kuroko demo — perform a show with simulated robots on the embedded broker

Usage:
  kuroko demo [--show FILE] [--once] [--port N] [--profile FILE] [--http-port N] [--token T]

Options:
  --show FILE        the show (default hub/shows/blade.yaml, "The Council at Dusk")
  --once             perform the show once and exit (0 when every scene finished)
  --port N           port of the embedded MQTT broker (default 1883; if that is busy, a free one, printed)
  --profile FILE     hardware profile for every simulated node (default firmware-config/profiles/sim-robot.yaml)
${WEB_HELP}
${LLM_HELP}
  --no-node-model    simulated nodes skip loading their local model (faster start, no ad-libs)
  --log-level LEVEL  log level of the hub and nodes (default error; logs go to stderr)
  -h, --help         this help

While it runs, drive it from another terminal, e.g.:
  mosquitto_pub -h localhost -p 1883 -t kuroko/v1/blade/console/estop -n`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KUROKO = fileURLToPath(new URL('../bin/kuroko.js', import.meta.url));

export async function runDemoCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      show: { type: 'string', default: `${ROOT}hub/shows/blade.yaml` },
      once: { type: 'boolean', default: false },
      port: { type: 'string' },
      profile: { type: 'string', default: `${ROOT}firmware-config/profiles/sim-robot.yaml` },
      'log-level': { type: 'string', default: 'error' },
      help: { type: 'boolean', short: 'h' },
      'no-node-model': { type: 'boolean', default: false },
      ...WEB_OPTIONS,
      ...LLM_OPTIONS,
    },
    strict: true,
  });
  if (values.help) { console.log(DEMO_HELP); return 0; }
  const show = loadShow(values.show!);
  const port = parsePort(values.port, 1883);
  const webOptions = parseWebFlags(values);
  const log = createLogger('demo', values['log-level']);
  // Without --port, a busy 1883 (a Mosquitto service, say) is no reason to fail: take a free port and print it.
  const hub = new Hub({ show, port, portFallback: values.port === undefined, logger: log });
  const model = await setupModel(values, log);
  // Improvised and council scenes: a deterministic model by default, so the demo runs offline.
  const ensemble = attachEnsemble(hub, { showFile: values.show!, backend: model.backend, style: model.style });
  const out = (s: string) => process.stdout.write(s + '\n');
  await hub.start();
  const web = await startWebOrStopHub(hub, webOptions);
  const brokerPort = hub.broker!.port;
  const names = Object.fromEntries(show.cast.map((c) => [c.id, c.name]));
  const width = Math.max(...show.cast.map((c) => c.name.length));
  const t0 = hub.showNow();
  const clock = () => `${((hub.showNow() - t0) / 1000).toFixed(1).padStart(6)}s`;

  out(`Kuroko demo — "${show.title}" (${show.cast.length} characters, ${show.scenes.length} scenes)`);
  out(`  broker  mqtt://localhost:${brokerPort}   topics kuroko/v1/${show.show}/#`);
  for (const l of [...describeWeb(web), ...model.describe()]) out(l);
  out(`  try     mosquitto_pub -h localhost -p ${brokerPort} -t kuroko/v1/${show.show}/console/estop -n`);
  out('');

  hub.on('line', (l: TranscriptLineT) => out(`${clock()}  ${(names[l.character] ?? l.character).toUpperCase().padEnd(width)}  ${l.text}${l.emotion ? `  (${l.emotion})` : ''}`));
  hub.on('node-state', (n: NodeInfo, prev: string) => out(`${clock()}  · node ${n.id}: ${prev} → ${n.state}${n.state === 'lost' || n.state === 'fault' || n.state === 'estopped' ? ` (${n.reason ?? ''})` : ''}`));
  hub.on('report', (r: Report) => out(`${clock()}  ! ${r.message}`));
  hub.on('ensemble-report', (r: StageReport) => out(`${clock()}  ! ${r.message}`));
  hub.on('council', (r: CouncilResult) => out(`${clock()}  = council answer to "${r.question}" (${r.answer.name}): ${r.answer.line}`));

  const children: ChildProcess[] = show.cast.map((c) => {
    // Small young-generation semi-spaces: V8's default (16 MB each) was ~30 MB of a node's RSS (models/README.md).
    const child = spawn(process.execPath, ['--max-semi-space-size=1', KUROKO, 'edge', '--show', show.show, '--node', c.node, '--character', c.id,
      '--character-name', c.name, ...(c.persona ? ['--persona', c.persona] : []), ...(values['no-node-model'] ? ['--no-model'] : []),
      '--profile', values.profile!, '--broker', `mqtt://127.0.0.1:${brokerPort}`, '--log-level', values['log-level']!], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('exit', (code, sig) => { if (!stopping) out(`${clock()}  ! node process ${c.node} exited (${sig ?? code})`); });
    return child;
  });
  let stopping = false;
  const shutdown = async () => {
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null) ? undefined : new Promise((r) => c.once('exit', r))));
    await web.close();
    await hub.stop();
    await model.close();
  };
  let interrupted = false;
  const onSignal = () => { interrupted = true; };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // Wait for every node to come up and hear the hub (a node still in init refuses to arm).
    const upBy = Date.now() + 30000;
    const up = (node: string) => hub.registry.isOnline(node) && hub.registry.get(node)?.state !== 'init';
    while (show.cast.some((c) => !up(c.node))) {
      if (Date.now() > upBy) {
        const missing = show.cast.filter((c) => !up(c.node)).map((c) => c.node);
        throw new Error(`nodes did not come up within 30 s: ${missing.join(', ')}`);
      }
      if (interrupted) throw new Error('interrupted');
      await sleep(50);
    }
    let armed = await hub.console.run('arm');
    // On a loaded machine a node can take longer than arm's wait to answer: ask again.
    for (let i = 0; i < 3 && !armed.ok && !interrupted; i++) { await sleep(500); armed = await hub.console.run('arm'); }
    out(`${clock()}  > arm: ${armed.message}`);
    if (!armed.ok) throw new Error(`could not arm the nodes: ${armed.message}`);

    let completed = true;
    for (const scene of show.scenes) {
      out(`${clock()}  == scene ${scene.id}${scene.title ? `: ${scene.title}` : ''}`);
      const finished = new Promise<boolean>((resolve) => {
        const onFinished = (id: string) => { if (id === scene.id) { cleanup(); resolve(true); } };
        const onState = () => { if (hub.estopActive || hub.playback.snapshot().status === 'stopped') { cleanup(); resolve(false); } };
        const poll = setInterval(() => { if (interrupted) { cleanup(); resolve(false); } }, 100);
        const cleanup = () => { hub.off('scene-finished', onFinished); hub.off('show-state', onState); clearInterval(poll); };
        hub.on('scene-finished', onFinished);
        hub.on('show-state', onState);
      });
      const r = await hub.console.run('scene/start', { scene: scene.id });
      if (!r.ok) { out(`${clock()}  ! ${r.message}`); completed = false; break; }
      if (!(await finished)) { completed = false; out(`${clock()}  ! the show was stopped${hub.estopActive ? ' by an e-stop' : ''}`); break; }
    }
    const srtFile = hub.journal!.file.replace(/\.jsonl$/, '.srt');
    writeFileSync(srtFile, transcriptToSrt(hub.transcript, names));
    out('');
    out(`${completed ? 'The show is over' : 'The show did not finish'}: ${hub.transcript.length} lines performed.`);
    for (const r of ensemble.records) {
      const dead = r.turns.slice(1).map((t) => Math.round(t.deadAirMs)).sort((a, b) => a - b);
      out(`  improv    ${r.scene}: ${r.turns.length} turns, beats ${r.beatsHit.length}/${r.beats.length}, ended by ${r.endedBy}, dead air max ${dead.at(-1) ?? 0} ms; turns ${JSON.stringify(r.stats)}`);
    }
    out(`  journal   ${hub.journal!.file}`);
    out(`  subtitles ${srtFile}`);
    if (values.once) {
      await shutdown();
      return completed ? 0 : 1;
    }
    if (!interrupted) out(`The stage stays live: drive it from ${web.pageUrl} or with mosquitto_pub; Ctrl-C to quit.`);
    while (!interrupted) await sleep(200);
    await shutdown();
    return 0;
  } catch (e) {
    await shutdown();
    if ((e as Error).message === 'interrupted') return 130;
    throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

