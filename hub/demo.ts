/**
 * `kuroko demo` (and `npm start`): the embedded broker and the hub in this process, one simulated
 * edge node per cast member as a child process, and the show performed scene by scene with the
 * live transcript and node states printed. Another terminal can drive it with mosquitto_pub.
 */
import { loadReadings, readingsLoaded, showNeedsReadings } from './readings.ts';
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createLogger } from '../bin/log.ts';
import { loadShow } from './show/load.ts';
import { Hub } from './hub.ts';
import { parsePort, parseSeconds } from './cli.ts';
import { transcriptToSrt } from './srt.ts';
import { performShowOnce, describeOnce } from './perform-once.ts';
import { WEB_OPTIONS, WEB_HELP, parseWebFlags, startWebOrStopHub, describeWeb } from './web/start.ts';
import type { TranscriptLineT } from '../protocol/index.ts';
import type { NodeInfo } from './registry.ts';
import type { Report } from './playback.ts';
import { attachEnsemble } from './ensemble/runtime.ts';
import { LLM_OPTIONS, LLM_HELP, setupModel } from './llm/cli-options.ts';
import { OSC_OPTIONS, OSC_HELP, parseOscFlags, startOsc, describeOsc } from './osc/cli-options.ts';
import type { CouncilResult } from './ensemble/council.ts';
import type { StageReport } from './ensemble/stage.ts';
import { HUB_SECURITY_OPTIONS, HUB_SECURITY_HELP, resolveHubSecurity } from './access/cli-options.ts';
import { describeBroker } from './access/describe.ts';

export const DEMO_HELP = `kuroko demo — perform a show with simulated robots on the embedded broker

Usage:
  kuroko demo [--show FILE] [--once] [--port N] [--profile FILE] [--http-port N] [--token T]

Options:
  --show FILE        the show (default hub/shows/blade.yaml, "The Council at Dusk")
  --once             perform the show once and exit: 0 when every scene finished, no cue was
                     rejected and lines were performed; else 1, with a summary
  --port N           port of the embedded MQTT broker (default 1883; if that is busy, a free one, printed)
  --profile FILE     hardware profile for every simulated node without its own cast "profile:"
                     (default firmware-config/profiles/sim-robot.yaml)
${HUB_SECURITY_HELP}
${WEB_HELP}
${OSC_HELP}
${LLM_HELP}
  --no-node-model    simulated nodes skip loading their local model (faster start, no ad-libs)
  --wait-nodes S     how long to wait for every node to come up before arming (default 60)
  --log-level LEVEL  log level of the hub and nodes (default error; logs go to stderr)
  -h, --help         this help

While it runs, drive it from another terminal with the mosquitto_pub line it prints at start
(user operator, its password from var/access/SHOW/clients/operator.json), e.g.:
  mosquitto_pub -h localhost -p 1883 -u operator -P PASSWORD -t kuroko/v1/blade/console/estop -n`;

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
      ...HUB_SECURITY_OPTIONS,
      'wait-nodes': { type: 'string' },
      ...WEB_OPTIONS,
      ...LLM_OPTIONS,
      ...OSC_OPTIONS,
    },
    strict: true,
  });
  if (values.help) { console.log(DEMO_HELP); return 0; }
  const show = loadShow(values.show!);
  const port = parsePort(values.port, 1883);
  const waitNodesMs = parseSeconds('--wait-nodes', values['wait-nodes'], 60) * 1000;
  const webOptions = parseWebFlags(values);
  const oscSettings = parseOscFlags(values);
  const log = createLogger('demo', values['log-level']);
  // Without --port, a busy 1883 (a Mosquitto service, say) is no reason to fail: take a free port and print it.
  // Secure with no setup: the first run creates the show's credentials under var/access/.
  const sec = await resolveHubSecurity(values, show, log);
  const hub = new Hub({ show, port, portFallback: values.port === undefined, logger: log, security: sec.options });
  const model = await setupModel(values, log);
  // Improvised and council scenes: a deterministic model by default, so the demo runs offline.
  const ensemble = attachEnsemble(hub, { showFile: values.show!, backend: model.backend, style: model.style });
  const out = (s: string) => process.stdout.write(s + '\n');
  await hub.start();
  // Japanese lines go to the nodes with their kana reading: build the dictionary before the first line.
  if (showNeedsReadings(show)) {
    const t = Date.now();
    await loadReadings().catch((e: Error) => log.warn({ err: e.message }, 'kana readings unavailable: nodes read kanji themselves'));
    if (readingsLoaded()) process.stdout.write(`  readings kana readings of Japanese lines ready (kuromoji, ${((Date.now() - t) / 1000).toFixed(1)} s)\n`);
  }
  const web = await startWebOrStopHub(hub, { ...webOptions, ...(sec.store ? { store: sec.store } : {}) });
  const oscServer = oscSettings ? await startOsc(hub, oscSettings, log).catch(async (e) => { await web.close(); await hub.stop(); throw e; }) : null;
  const brokerPort = hub.broker!.port;
  const names = Object.fromEntries(show.cast.map((c) => [c.id, c.name]));
  const width = Math.max(...show.cast.map((c) => c.name.length));
  const t0 = hub.showNow();
  const clock = () => `${((hub.showNow() - t0) / 1000).toFixed(1).padStart(6)}s`;

  out(`Kuroko demo — "${show.title}" (${show.cast.length} characters, ${show.scenes.length} scenes)`);
  for (const l of [...sec.notes, ...describeBroker(hub, sec.store), ...describeWeb(web, sec.store ? { store: sec.store } : {}), ...model.describe()]) out(l);
  if (oscServer && oscSettings) out(describeOsc(oscServer, oscSettings, show.show, show.osc?.allowArm ?? false));
  out('');

  hub.on('line', (l: TranscriptLineT) => out(`${clock()}  ${(names[l.character] ?? l.character).toUpperCase().padEnd(width)}  ${l.text}${l.emotion ? `  (${l.emotion})` : ''}`));
  hub.on('node-state', (n: NodeInfo, prev: string) => out(`${clock()}  · node ${n.id}: ${prev} → ${n.state}${n.state === 'lost' || n.state === 'fault' || n.state === 'estopped' ? ` (${n.reason ?? ''})` : ''}`));
  hub.on('report', (r: Report) => out(`${clock()}  ! ${r.message}`));
  hub.on('ensemble-report', (r: StageReport) => out(`${clock()}  ! ${r.message}`));
  hub.on('council', (r: CouncilResult) => out(`${clock()}  = council answer to "${r.question}" (${r.answer.name}): ${r.answer.line}`));

  // The demo's nodes are simulated and live for one run: each run gets fresh e-stop latches, so an
  // e-stop left latched by the last run does not block this one's arm (a robot's own node keeps its latch).
  const varDir = mkdtempSync(join(tmpdir(), 'kuroko-demo-'));
  const children: ChildProcess[] = show.cast.map((c) => {
    // Small young-generation semi-spaces: V8's default (16 MB each) was ~30 MB of a node's RSS (models/README.md).
    const child = spawn(process.execPath, ['--max-semi-space-size=1', KUROKO, 'edge', '--show', show.show, '--node', c.node, '--character', c.id,
      '--character-name', c.name, ...(c.persona ? ['--persona', c.persona] : []), ...(c.language ? ['--language', c.language] : []), ...(values['no-node-model'] ? ['--no-model'] : []),
      // A cast entry's own profile wins over --profile, as kuroko validate reads it.
      '--profile', c.profile ? resolve(dirname(values.show!), c.profile) : values.profile!, '--broker', `mqtt://127.0.0.1:${brokerPort}`, '--var-dir', varDir, '--log-level', values['log-level']!,
      ...(sec.store ? ['--credentials', sec.store.bundleFile(c.node)] : ['--insecure'])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.on('exit', (code, sig) => { if (!stopping) out(`${clock()}  ! node process ${c.node} exited (${sig ?? code})`); });
    return child;
  });
  let stopping = false;
  const shutdown = async () => {
    stopping = true;
    for (const c of children) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null) ? undefined : new Promise((r) => c.once('exit', r))));
    await oscServer?.close();
    await web.close();
    await hub.stop();
    await model.close();
  };
  let interrupted = false;
  const onSignal = () => { interrupted = true; };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // 60 s by default: four node processes starting at once on a small machine take a while.
    const result = await performShowOnce(hub, { out, clock, interrupted: () => interrupted, upTimeoutMs: waitNodesMs, nodesStartedHere: true });
    const srtFile = hub.journal!.file.replace(/\.jsonl$/, '.srt');
    writeFileSync(srtFile, transcriptToSrt(hub.transcript, names));
    out('');
    out(`${result.completed ? 'The show is over' : 'The show did not finish'}: ${hub.transcript.length} lines performed.`);
    for (const r of ensemble.records) {
      const dead = r.turns.slice(1).map((t) => Math.round(t.deadAirMs)).sort((a, b) => a - b);
      out(`  improv    ${r.scene}: ${r.turns.length} turns, beats ${r.beatsHit.length}/${r.beats.length}, ended by ${r.endedBy}, dead air max ${dead.at(-1) ?? 0} ms; turns ${JSON.stringify(r.stats)}`);
    }
    out(`  journal   ${hub.journal!.file}`);
    out(`  subtitles ${srtFile}`);
    if (values.once) {
      for (const l of describeOnce(result, values.show)) out(l);
      await shutdown();
      return result.failures.length ? 1 : 0;
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

