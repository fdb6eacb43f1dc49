/**
 * `kuroko edge`: runs one edge node.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '../bin/log.ts';
import { UsageError } from '../bin/errors.ts';
import { checkId } from '../protocol/ids.ts';
import { loadProfile } from '../firmware-config/profile.ts';
import { EdgeNode } from './node.ts';
import { createHardware, createVoice } from './hardware/factory.ts';
import type { Adlibber } from './adlib.ts';

export const EDGE_HELP = `kuroko edge — run one edge node (the computer inside a robot)

Usage:
  kuroko edge --show ID --node ID --profile FILE [--broker URL] [--character ID]

Options:
  --show ID          show id (the topic root kuroko/v1/{show}/)
  --node ID          this node's id ([a-z0-9-]); the hub binds a character to it
  --profile FILE     hardware profile (YAML), e.g. firmware-config/profiles/sim-robot.yaml
  --broker URL       MQTT broker (default mqtt://127.0.0.1:1883)
  --character ID     the character this node plays (reported in its birth)
  --character-name NAME  the character's name, as the local model speaks it (default: the id)
  --persona TEXT     a line about the character, for the local model
  --model DIR        the local model folder (default: the profile's model.dir, else the shipped int8 model)
  --no-model         do not load the local model (no ad-libs)
  --watchdog-ms N    go to the safe pose when hub heartbeats stop this long (default: profile, else 500)
  --log-level LEVEL  fatal, error, warn, info, debug, trace or silent (default info)
  -h, --help         this help

The node publishes its birth and state, follows the hub's show clock, and performs its cues.
Nothing moves until the show is armed; e-stop, watchdog and limits are enforced here.`;

export async function runEdgeCli(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      show: { type: 'string' }, node: { type: 'string' }, profile: { type: 'string' },
      broker: { type: 'string', default: 'mqtt://127.0.0.1:1883' }, character: { type: 'string' },
      'watchdog-ms': { type: 'string' },
      'character-name': { type: 'string' }, persona: { type: 'string' }, model: { type: 'string' }, 'no-model': { type: 'boolean', default: false }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) { console.log(EDGE_HELP); return 0; }
  for (const k of ['show', 'node', 'profile'] as const) {
    if (!values[k]) throw new UsageError(`kuroko edge: --${k} is required (see kuroko edge --help)`);
  }
  // Started by a parent with an IPC channel (the demo, the tests): leave when the parent dies, even mid-start.
  let parentGone: (() => void) | null = null;
  if (process.connected) process.once('disconnect', () => (parentGone ? parentGone() : process.exit(0)));
  const show = checkId('--show', values.show);
  const node = checkId('--node', values.node);
  const character = values.character ? checkId('--character', values.character) : undefined;
  const log = createLogger(`edge:${node}`, values['log-level']);
  const loaded = loadProfile(values.profile!);
  if (loaded.profile.node && loaded.profile.node !== node) {
    throw new UsageError(`${values.profile}: this profile belongs to node "${loaded.profile.node}", not "${node}"; pass --node ${loaded.profile.node} or use another profile`);
  }
  let watchdogMs: number | undefined;
  if (values['watchdog-ms'] !== undefined) {
    watchdogMs = Number(values['watchdog-ms']);
    if (!Number.isInteger(watchdogMs) || watchdogMs < 50) throw new UsageError('--watchdog-ms must be an integer of at least 50');
  }
  const hardware = await createHardware(loaded.profile, log);
  const voice = await createVoice(loaded.profile, log);
  // The local model loads at start (with progress in the log), unless the profile or a flag says not to.
  let adlib: Adlibber | undefined;
  if (!values['no-model'] && loaded.profile.model?.enabled !== false) {
    const name = values['character-name'] ?? character ?? node;
    // Imported here: the model runtime (onnxruntime, tokenizer) is most of a node's start-up time
    // and memory, and a node without a model should pay for none of it.
    const { Adlibber } = await import('./adlib.ts');
    adlib = await Adlibber.load({ id: character ?? node, name, persona: values.persona }, { dir: values.model ?? loaded.profile.model?.dir, log });
  }
  const edge = new EdgeNode({ show, node, character, brokerUrl: values.broker!, profile: loaded, hardware, voice, logger: log, watchdogMs, adlib });
  await edge.start();
  await new Promise<void>((resolve) => {
    const bye = (sig: string) => { log.info(`node ${node}: ${sig}, shutting down`); resolve(); };
    process.once('SIGINT', () => bye('SIGINT'));
    process.once('SIGTERM', () => bye('SIGTERM'));
    parentGone = () => bye('parent process exited');
  });
  // Going safe happens first thing in stop(); the rest is courtesy, so never hang on it.
  const forced = setTimeout(() => process.exit(0), 3000);
  forced.unref();
  await edge.stop();
  return 0;
}
