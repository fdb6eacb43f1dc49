/**
 * A real stage for the crash drills: a broker (Mosquitto with persistence, or the hub's embedded
 * aedes), `kuroko hub` and `kuroko edge` as real child processes, an observer that records every
 * message under the show's root, and the nodes' own logs (what each performed, each state change,
 * with the node's timestamps). Drills (drills.ts) break parts of it and measure what happened.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import getPort from 'get-port';
import { connect, type MqttClient } from 'mqtt';
import { encode, topic, type ChannelName, type CueT } from '../../protocol/index.ts';
import { newCueId } from '../../hub/playback.ts';
import type { BoardNode } from '../helpers/board-node.ts';
import { readJournal } from '../../hub/journal.ts';
import { startMosquitto, type RunningMosquitto } from '../helpers/mosquitto.ts';
import { KUROKO, ROOT, SIM_PROFILE } from '../helpers/stage.ts';
import { waitFor, sleep } from '../helpers/wait.ts';

export const CHAOS_SHOW = join(ROOT, 'test/fixtures/chaos-show.yaml');
export const SHOW = 'chaos';
export const NODES = ['ann', 'ben'];

export type BrokerKind = 'mosquitto' | 'aedes';

/** One line of a node's log (pino JSON), with what the drills read from it. */
export interface NodeLogLine { time: number; msg: string; state?: string; reason?: string; performed?: { cue: string | null; scene: string | null; text: string } }

export interface Seen { at: number; topic: string; payload: string; retain: boolean }

/** Whatever happens to the drill runner, its children do not outlive it. */
const killOnExit = new Set<ChildProcess>();
process.once('exit', () => { for (const c of killOnExit) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

export class NodeProc {
  readonly log: NodeLogLine[] = [];
  proc: ChildProcess | null = null;
  constructor(readonly id: string, private readonly url: string, private readonly varDir: string) {}

  start(): void {
    const p = spawn(process.execPath, [KUROKO, 'edge', '--show', SHOW, '--node', this.id, '--character', this.id, '--profile', SIM_PROFILE,
      '--broker', this.url, '--no-model', '--log-level', 'info', '--insecure'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, KUROKO_LOG_FORMAT: 'json', KUROKO_VAR_DIR: this.varDir } });
    createInterface({ input: p.stderr! }).on('line', (l) => {
      try { this.log.push(JSON.parse(l) as NodeLogLine); } catch { /* not a log record */ }
    });
    this.proc = p;
    killOnExit.add(p);
  }

  /** The node's latest state as it logged it (the node's own view, not the broker's). */
  state(): string | undefined {
    for (let i = this.log.length - 1; i >= 0; i--) if (this.log[i]!.state) return this.log[i]!.state;
    return undefined;
  }

  /** When the node first logged leaving `armed` at or after t (ms since the epoch). */
  safeAt(t: number): number | undefined {
    return this.log.find((l) => l.time >= t && l.state && l.state !== 'armed')?.time;
  }

  performed(): { cue: string | null; text: string; time: number }[] {
    return this.log.filter((l) => l.performed).map((l) => ({ cue: l.performed!.cue, text: l.performed!.text, time: l.time }));
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await gone;
  }
}

export class World {
  readonly journalDir = mkdtempSync(join(tmpdir(), 'kuroko-chaos-'));
  /** The nodes' own state (their e-stop latch, where the node keeps one): kept across node restarts. */
  readonly varDir = mkdtempSync(join(tmpdir(), 'kuroko-chaos-var-'));
  readonly seen: Seen[] = [];
  /** The hub's recent log lines (warnings and errors), for a failing drill's message. */
  readonly hubLog: string[] = [];
  readonly nodes = new Map<string, NodeProc>();
  hub: ChildProcess | null = null;
  mosq: RunningMosquitto | null = null;
  /** The board drill's node on an emulated Uno (started by that drill, stopped by it or by stop()). */
  board: BoardNode | null = null;
  /** When the board drill pulled the cable (ms since the epoch). */
  unpluggedAt = 0;
  url = '';
  private port = 0;
  private obs: MqttClient | null = null;

  constructor(readonly kind: BrokerKind) {}

  async start(): Promise<void> {
    if (this.kind === 'mosquitto') {
      // Autosave far away: only SIGUSR1 and a clean stop save, so a kill -9 loses what came after the last save.
      this.mosq = await startMosquitto({ persistence: { autosaveS: 3600 } });
      this.url = this.mosq.url;
    } else {
      this.port = await getPort();
      this.url = `mqtt://127.0.0.1:${this.port}`;
    }
    this.startHub();
    await this.connectObserver();
    for (const id of NODES) {
      const n = new NodeProc(id, this.url, this.varDir);
      this.nodes.set(id, n);
      n.start();
    }
    await waitFor('every node ready', () => NODES.every((id) => ['ready', 'armed'].includes(this.stateOf(id) ?? '')), 180000);
    await waitFor('the hub online', () => this.last('hubState')?.status === 'online', 120000);
  }

  startHub(): void {
    const broker = this.kind === 'mosquitto' ? ['--broker', this.url] : ['--port', String(this.port)];
    const hub = spawn(process.execPath, [KUROKO, 'hub', '--show', CHAOS_SHOW, ...broker, '--journal-dir', this.journalDir, '--http-port', '0', '--log-level', 'warn', '--insecure'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUROKO_LOG_FORMAT: 'json' } });
    createInterface({ input: hub.stderr! }).on('line', (l) => { this.hubLog.push(l); if (this.hubLog.length > 500) this.hubLog.shift(); });
    this.hub = hub;
    killOnExit.add(hub);
  }

  async killHub(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const h = this.hub;
    if (!h || h.exitCode !== null || h.signalCode !== null) return;
    const gone = new Promise((r) => h.once('exit', r));
    h.kill(signal);
    await gone;
  }

  /** A new hub process; resolves when it says online again (after `since`). */
  async restartHub(): Promise<void> {
    const since = Date.now();
    this.startHub();
    await waitFor('the restarted hub online', () => this.seen.some((s) => s.at >= since && s.topic.endsWith('/hub/state') && s.payload.includes('"online"')), 120000);
  }

  private async connectObserver(): Promise<void> {
    const obs = connect(this.url, { clientId: `chaos-observer-${process.pid}`, clean: true, reconnectPeriod: 200, connectTimeout: 2000 });
    obs.on('connect', () => obs.subscribe(`kuroko/v1/${SHOW}/#`, { qos: 1 }));
    obs.on('message', (t, p, packet) => this.seen.push({ at: Date.now(), topic: t, payload: p.toString(), retain: packet.retain }));
    obs.on('error', () => undefined);
    this.obs = obs;
    await waitFor('the observer connected', () => obs.connected, 180000);
  }

  /** The operator: publishes a console command (QoS 1), once the observer's connection is up. */
  async command(name: ChannelName, payload = ''): Promise<number> {
    await waitFor('a connection for the operator', () => this.obs?.connected, 60000);
    const at = Date.now();
    await this.obs!.publishAsync(topic(SHOW, name), payload, { qos: 1 });
    return at;
  }

  /** The console reply to `command` received after `since`. */
  async reply(command: string, since: number, timeoutMs = 10000): Promise<{ ok: boolean; message: string }> {
    return await waitFor(`the reply to ${command}`, () => {
      const r = this.seen.find((s) => s.at >= since && s.topic.endsWith('/console/reply') && JSON.parse(s.payload).command === command);
      return r ? JSON.parse(r.payload) : null;
    }, timeoutMs);
  }

  /** The newest payload seen on a channel (no parameters). */
  last(name: ChannelName): Record<string, unknown> | null {
    const t = topic(SHOW, name);
    for (let i = this.seen.length - 1; i >= 0; i--) if (this.seen[i]!.topic === t) return JSON.parse(this.seen[i]!.payload);
    return null;
  }

  /** Cues the hub sent (as seen on the broker) created after `since`. */
  cuesSentAfter(since: number, until = Infinity): { id: string; ts: number }[] {
    return this.seen.filter((s) => /\/node\/[^/]+\/cue$/.test(s.topic) && s.at >= since && s.at < until)
      .map((s) => JSON.parse(s.payload)).filter((c) => c.ts >= since && c.ts < until).map((c) => ({ id: c.id, ts: c.ts }));
  }

  /** Every line in every journal of the show (each hub run writes one). */
  journaledLines(): { node: string; cue: string | null; text: string; late: boolean }[] {
    const out: { node: string; cue: string | null; text: string; late: boolean }[] = [];
    for (const f of readdirSync(this.journalDir).filter((n) => n.endsWith('.jsonl'))) {
      for (const r of readJournal(join(this.journalDir, f))) if (r.type === 'line') out.push({ node: r.line.node, cue: r.line.cue, text: r.line.text, late: !!r.late });
    }
    return out;
  }

  /** Lines the nodes say they performed that are in no journal. */
  missingLines(): string[] {
    const j = new Set(this.journaledLines().map((l) => `${l.node}|${l.cue}|${l.text}`));
    const missing: string[] = [];
    for (const n of this.nodes.values()) for (const p of n.performed()) if (!j.has(`${n.id}|${p.cue}|${p.text}`)) missing.push(`${n.id}: ${p.text}`);
    return missing;
  }

  /** Arms the show (releasing an e-stop first) and starts the long scene; resolves after `lines` lines. */
  async runScene(lines = 2): Promise<void> {
    if (this.last('showState')?.estop) await this.reply('release', await this.command('consoleRelease'));
    await waitFor('nodes not e-stopped', () => NODES.every((id) => this.stateOf(id) !== 'estopped'), 10000);
    // The operator's client may be reconnecting after a drill (its reply lost): ask again, as an operator would.
    let armed: { ok: boolean; message: string } | null = null;
    for (let i = 0; i < 3 && !armed; i++) armed = await this.reply('arm', await this.command('consoleArm')).catch(() => null);
    if (!armed?.ok) throw new Error(`arm failed: ${armed?.message ?? 'no reply'}`);
    await waitFor('every node armed', () => NODES.every((id) => this.stateOf(id) === 'armed'), 10000);
    const before = this.performedCount();
    const r = await this.reply('scene/start', await this.command('consoleSceneStart', 'long'));
    if (!r.ok) throw new Error(`scene/start failed: ${r.message}`);
    await waitFor(`${lines} lines performed`, () => this.performedCount() >= before + lines, 20000);
  }

  /**
   * A node's latest state: its own log or its state on the broker, whichever the node said later.
   * Compared by the node's own clock (the payload's ts), not by when this observer heard it: on a
   * loaded machine the broker's copy of an older state can arrive after the node logged a newer one.
   * A Will ('lost') carries the ts of its connection, so it counts from when it was heard.
   */
  stateOf(id: string): string | undefined {
    const n = this.nodes.get(id)!;
    let logged: NodeLogLine | undefined;
    for (let i = n.log.length - 1; i >= 0 && !logged; i--) if (n.log[i]!.state) logged = n.log[i];
    const t = topic(SHOW, 'nodeState', { node: id });
    let seen: Seen | undefined;
    for (let i = this.seen.length - 1; i >= 0 && !seen; i--) if (this.seen[i]!.topic === t) seen = this.seen[i];
    if (!seen) return logged?.state;
    const said = JSON.parse(seen.payload) as { state: string; ts: number };
    const saidAt = said.state === 'lost' ? seen.at : said.ts;
    if (!logged || saidAt > logged.time) return said.state;
    return logged.state;
  }

  /** A node's state as the broker last carried it (for a node that is not one of NODES). */
  brokerStateOf(id: string): string | undefined {
    const t = topic(SHOW, 'nodeState', { node: id });
    for (let i = this.seen.length - 1; i >= 0; i--) if (this.seen[i]!.topic === t) return (JSON.parse(this.seen[i]!.payload) as { state: string }).state;
    return undefined;
  }

  /** Publishes a cue for a node as the hub would (an --insecure stage: unsigned), at show time now + leadMs. */
  async sendCue(node: string, body: Pick<CueT, 'kind' | 'params'>, leadMs = 300): Promise<void> {
    const hb = await waitFor('a hub heartbeat', () => this.last('hubHeartbeat') as { showTime: number } | null, 10000);
    const at = hb.showTime + leadMs;
    const cue = { v: 1, id: newCueId(), scene: 'long', seq: 0, at, deadline: at + 5000, ts: Date.now(), ...body } as CueT;
    await this.obs!.publishAsync(topic(SHOW, 'nodeCue', { node }), encode('nodeCue', cue), { qos: 1 });
  }

  performedCount(): number {
    return [...this.nodes.values()].reduce((n, p) => n + p.performed().length, 0);
  }

  async stop(): Promise<void> {
    await this.board?.stop();
    this.board = null;
    await this.obs?.endAsync(true).catch(() => undefined);
    await Promise.all([...this.nodes.values()].map((n) => n.kill('SIGTERM')));
    await this.killHub('SIGTERM');
    await this.mosq?.stop();
    await sleep(50);
  }
}
