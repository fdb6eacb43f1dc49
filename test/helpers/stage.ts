/**
 * A real stage for integration tests: a hub (in this process) on a real broker, and edge nodes
 * as real child processes running `kuroko edge` with the simulated-robot profile.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import type { ShowT } from '../../hub/show/schema.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const KUROKO = join(ROOT, 'bin/kuroko.js');
export const SIM_PROFILE = join(ROOT, 'firmware-config/profiles/sim-robot.yaml');

export { waitFor } from './wait.ts';
import { waitFor } from './wait.ts';

export function spawnEdge(show: string, node: string, brokerUrl: string, extra: string[] = []): ChildProcess {
  // Without --credentials the node runs on an open test broker: say so explicitly (users get a refusal instead).
  const open = extra.includes('--credentials') ? [] : ['--insecure'];
  const child = spawn(process.execPath, [KUROKO, 'edge', '--show', show, '--node', node, '--character', node, '--profile', SIM_PROFILE, '--broker', brokerUrl, '--log-level', 'warn', ...open, ...extra], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, KUROKO_LOG_FORMAT: 'json' },
  });
  let err = '';
  child.stderr!.on('data', (d) => { err += d; });
  (child as ChildProcess & { stderrText: () => string }).stderrText = () => err;
  return child;
}

export async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill('SIGTERM');
  await new Promise((r) => c.once('exit', r));
}

export interface Stage {
  hub: Hub;
  show: ShowT;
  brokerUrl: string;
  edges: Map<string, ChildProcess>;
  stop(): Promise<void>;
}

/** Starts a hub (embedded broker when brokerUrl is undefined) and one edge process per cast member. */
export async function startStage(opts: { showFile?: string; brokerUrl?: string } = {}): Promise<Stage> {
  const show = loadShow(opts.showFile ?? join(ROOT, 'hub/shows/blade.yaml'));
  const hub = new Hub({ show, brokerUrl: opts.brokerUrl, port: 0, logger: pino({ level: 'silent' }), journalDir: mkdtempSync(join(tmpdir(), 'kuroko-journal-')) });
  await hub.start();
  const edges = new Map<string, ChildProcess>();
  for (const c of show.cast) edges.set(c.node, spawnEdge(show.show, c.node, hub.brokerUrl));
  await waitFor('every node to be online', () => show.cast.every((c) => hub.registry.get(c.node)?.state === 'ready'), 120000);
  return {
    hub, show, brokerUrl: hub.brokerUrl, edges,
    async stop() {
      await Promise.all([...edges.values()].map(stopChild));
      await hub.stop();
    },
  };
}

/** An MQTT client that records what it receives. */
export async function recorder(url: string, filters: string[]): Promise<{ client: MqttClient; messages: { topic: string; payload: string }[] }> {
  const client = connect(url, { clean: true, reconnectPeriod: 0 });
  const messages: { topic: string; payload: string }[] = [];
  client.on('message', (topic, payload) => messages.push({ topic, payload: payload.toString() }));
  await new Promise<void>((resolve, reject) => { client.once('connect', () => resolve()); client.once('error', reject); });
  await client.subscribeAsync(filters, { qos: 1 });
  return { client, messages };
}
