/**
 * `kuroko hub`: runs the hub for one show until interrupted.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../bin/log.ts';
import { UsageError } from '../bin/errors.ts';
import { loadShow } from './show/load.ts';
import { Hub } from './hub.ts';
import { performShowOnce, describeOnce } from './perform-once.ts';
import type { Report } from './playback.ts';
import type { TranscriptLineT } from '../protocol/index.ts';
import { describeBroker } from './access/describe.ts';
import { WEB_OPTIONS, WEB_HELP, parseWebFlags, startWebOrStopHub, describeWeb } from './web/start.ts';
import { attachEnsemble } from './ensemble/runtime.ts';
import { LLM_OPTIONS, LLM_HELP, setupModel } from './llm/cli-options.ts';
import { HUB_SECURITY_OPTIONS, HUB_SECURITY_HELP, resolveHubSecurity } from './access/cli-options.ts';
import { OSC_OPTIONS, OSC_HELP, parseOscFlags, startOsc, describeOsc } from './osc/cli-options.ts';

export const HUB_HELP = `kuroko hub — run the hub of a show

Usage:
  kuroko hub --show FILE [--broker URL | --port N] [--journal-dir DIR] [--once] [--http-port N] [--token T]
             [--osc-port N [--osc-bind ADDR] [--osc-allow LIST]]

Options:
  --show FILE        the show file (YAML), e.g. hub/shows/blade.yaml
  --broker URL       use this MQTT broker (e.g. mqtt://127.0.0.1:1883 for Mosquitto);
                     without it the hub starts its embedded broker
  --port N           port of the embedded broker (default 1883)
  --journal-dir DIR  where the show journal (JSON Lines) goes (default var/journal)
${HUB_SECURITY_HELP}
  --once             wait for every cast node, arm, perform every scene once and exit:
                     0 when every scene finished, no cue was rejected and lines were performed;
                     else 1, with a summary
  --wait-nodes S     with --once: how long to wait for the nodes (default 60)
${WEB_HELP}
${OSC_HELP}
${LLM_HELP}
  --log-level LEVEL  fatal, error, warn, info, debug, trace or silent (default info)
  -h, --help         this help

Operators drive the show from the web page (its address, with the token, is printed at start)
or over MQTT: see README "Console commands".`;

export function parsePort(s: string | undefined, fallback: number): number {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port ${s} is not a port number (0-65535)`);
  return n;
}

export function parseSeconds(flag: string, s: string | undefined, fallback: number): number {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new UsageError(`${flag} ${s} is not a number of seconds (1-3600)`);
  return n;
}

export async function runHubCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      show: { type: 'string' }, broker: { type: 'string' }, port: { type: 'string' },
      'journal-dir': { type: 'string' }, once: { type: 'boolean', default: false }, 'wait-nodes': { type: 'string' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
      ...HUB_SECURITY_OPTIONS,
      ...WEB_OPTIONS,
      ...LLM_OPTIONS,
      ...OSC_OPTIONS,
    },
    strict: true,
  });
  if (values.help) { console.log(HUB_HELP); return 0; }
  if (!values.show) throw new UsageError('kuroko hub: --show FILE is required (see kuroko hub --help)');
  if (values.broker && values.port) throw new UsageError('kuroko hub: give --broker (an external broker) or --port (the embedded one), not both');
  const log = createLogger('hub', values['log-level']);
  const show = loadShow(values.show);
  const webOptions = parseWebFlags(values);
  const oscSettings = parseOscFlags(values);
  const waitNodesMs = parseSeconds('--wait-nodes', values['wait-nodes'], 60) * 1000;
  const sec = await resolveHubSecurity(values, show, log);
  const hub = new Hub({ show, brokerUrl: values.broker, port: parsePort(values.port, 1883), journalDir: values['journal-dir'], logger: log, security: sec.options });
  const model = await setupModel(values, log);
  // Improv and council cues; without --llm the deterministic built-in improviser writes the lines.
  attachEnsemble(hub, { showFile: values.show, backend: model.backend, style: model.style });
  await hub.start();
  const web = await startWebOrStopHub(hub, { ...webOptions, ...(sec.store ? { store: sec.store } : {}) });
  // `kuroko access add/rotate/revoke` while the hub runs: kill -HUP rereads the store, and pages
  // logged in as a revoked or rotated identity are closed (their cookies no longer hold either).
  process.on('SIGHUP', () => {
    sec.store?.reload();
    const ended = web.revalidate();
    log.info(`credentials store reloaded${ended ? `; ${ended} page session(s) ended` : ''}`);
  });
  const oscServer = oscSettings ? await startOsc(hub, oscSettings, log).catch(async (e) => { await web.close(); await hub.stop(); throw e; }) : null;
  log.info({ journal: hub.journal?.file }, `hub running show "${show.title}" (${show.show}); journal ${hub.journal?.file}`);
  // The page address carries the token, so it goes to stdout (the operator's terminal), not the log.
  console.log(`Kuroko hub — "${show.title}"\n${[...sec.notes, ...describeBroker(hub, sec.store), ...describeWeb(web, { lan: true, ...(sec.store ? { store: sec.store } : {}) }), ...(oscServer && oscSettings ? [describeOsc(oscServer, oscSettings, show.show, show.osc?.allowArm ?? false)] : []), ...model.describe()].join('\n')}`);
  let code = 0;
  if (values.once) {
    let interrupted = false;
    const stopOnSignal = () => { interrupted = true; };
    process.once('SIGINT', stopOnSignal);
    process.once('SIGTERM', stopOnSignal);
    const t0 = hub.showNow();
    const clock = () => `${((hub.showNow() - t0) / 1000).toFixed(1).padStart(6)}s`;
    const out = (s: string) => process.stdout.write(`${s}\n`);
    hub.on('line', (l: TranscriptLineT) => out(`${clock()}  ${l.character.toUpperCase()}  ${l.text}`));
    hub.on('report', (r: Report) => out(`${clock()}  ! ${r.message}`));
    try {
      const result = await performShowOnce(hub, { out, clock, interrupted: () => interrupted, upTimeoutMs: waitNodesMs });
      for (const l of describeOnce(result, values.show)) out(l);
      code = result.failures.length ? 1 : 0;
    } catch (e) {
      out(`FAILED: ${(e as Error).message}`);
      code = 1;
    }
  } else {
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  }
  await oscServer?.close();
  // Bounded shutdown: the hub says offline if the broker is there, and leaves within 2 s either way.
  const forced = setTimeout(() => process.exit(code), 1800);
  forced.unref();
  await web.close();
  await hub.stop();
  await model.close();
  return code;
}
