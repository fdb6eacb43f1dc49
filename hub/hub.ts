/**
 * The hub: connects to the broker (or starts the embedded one), beats the show clock, keeps the
 * node registry, plays cues, answers console commands and journals what was performed.
 * It is the one place these parts are wired together; each part has one job.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  SOFTWARE_VERSION, type ChannelName, type PayloadOf, type TranscriptLineT, type ShowStateT, type HubStateT,
} from '../protocol/index.ts';
import { Endpoint, type ConnectionOptions } from '../protocol/endpoint.ts';
import type { ShowT } from './show/schema.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.ts';
import { NodeRegistry, type NodeInfo } from './registry.ts';
import { Playback, newCueId, type Report, type ExternalCueRunner } from './playback.ts';
import { Journal } from './journal.ts';
import { ConsoleCommands } from './console.ts';
import { Curator, type CurateRequest } from './web/curator.ts';

export interface HubOptions {
  show: ShowT;
  /** An external broker; without it the hub starts the embedded one on `port`. */
  brokerUrl?: string;
  port?: number;
  /** Take a free port when `port` is busy (the demo, when no port was asked for). */
  portFallback?: boolean;
  journalDir?: string;
  logger: Logger;
  heartbeatHz?: number;
  /** Credentials, TLS and message hooks for the broker connection (issue 10). */
  connection?: Partial<Pick<ConnectionOptions, 'username' | 'password' | 'tls' | 'hooks'>>;
}

/** The console channels the hub answers, all through ConsoleCommands. */
const CONSOLE_CHANNELS = ['consoleSceneStart', 'consoleGo', 'consoleStop', 'consoleArm', 'consoleDisarm', 'consoleEstop', 'consoleRelease',
  'consoleNextSpeaker', 'consoleCouncilAsk', 'consoleCouncilAgent'] as const satisfies readonly ChannelName[];

export class Hub extends EventEmitter {
  readonly epoch = newCueId();
  readonly registry: NodeRegistry;
  readonly playback: Playback;
  readonly console: ConsoleCommands;
  journal: Journal | null = null;
  broker: EmbeddedBroker | null = null;
  brokerUrl = '';
  endpoint: Endpoint | null = null;
  private readonly t0 = performance.now();
  private hbSeq = 0;
  private hbTimer: NodeJS.Timeout | null = null;
  estopActive = false;
  readonly transcript: TranscriptLineT[] = [];
  /** Lines wait here for the operator in curator mode (the ensemble code calls curator.submit). */
  readonly curator = new Curator();
  /** Performs improv and council cues; set by attachEnsemble (hub/ensemble/runtime.ts). */
  externalCue: ExternalCueRunner | null = null;
  /** The ensemble attached to this hub, if any (console council and next-speaker commands use it). */
  ensemble: import('./ensemble/runtime.ts').Ensemble | null = null;
  /** The operator's choice of the next improvising speaker (console/next-speaker or the page); consumed once used. */
  nextSpeakerOverride: string | null = null;
  private readonly log: Logger;

  constructor(readonly o: HubOptions) {
    super();
    this.log = o.logger;
    const show = o.show;
    this.registry = new NodeRegistry(show.cast.map((c) => c.node));
    this.playback = new Playback({
      show,
      clock: this,
      registry: this.registry,
      sendCue: (node, cue) => this.publish('nodeCue', { node }, cue),
      stopNode: (node, reason) => this.publish('nodeCmd', { node }, { v: 1, cmd: 'stop', reason, ts: Date.now() }),
      runExternal: (cue, scene, signal) => this.externalCue ? this.externalCue(cue, scene, signal) : Promise.reject(new Error('no ensemble is attached to this hub (see hub/ensemble/runtime.ts attachEnsemble)')),
    });
    this.console = new ConsoleCommands(this);
    this.curator.on('curate', (c: CurateRequest) => this.emit('curate', c));
    this.playback.on('state', () => this.publishShowState());
    this.playback.on('report', (r: Report) => {
      this.log.warn({ report: r.kind, scene: r.scene, cue: r.cue, node: r.node }, r.message);
      this.journal?.append({ type: 'event', source: 'hub', kind: r.kind, data: { ...r } });
      this.publish('hubEvent', { kind: r.kind }, { v: 1, kind: r.kind, data: { ...r }, ts: Date.now() });
      this.emit('report', r);
    });
    this.playback.on('outcome', (o: { scene: string; cue: string; node?: string; outcome: string; reason?: string }) => {
      this.journal?.append({ type: 'cue', scene: o.scene, cue: o.cue, node: o.node, status: o.outcome, reason: o.reason });
    });
    this.playback.on('scene-finished', (id: string) => {
      this.log.info({ scene: id }, `scene ${id} finished`);
      this.journal?.append({ type: 'show', action: 'scene-finished', detail: id });
      this.emit('scene-finished', id);
    });
    this.registry.on('state', (n: NodeInfo, prev: string) => {
      const level = n.state === 'lost' || n.state === 'fault' ? 'warn' : 'info';
      this.log[level]({ node: n.id, state: n.state, prev, reason: n.reason }, `node ${n.id}: ${prev} → ${n.state}${n.reason ? ` (${n.reason})` : ''}`);
      this.journal?.append({ type: 'event', source: `node/${n.id}`, kind: 'state', data: { state: n.state, prev, reason: n.reason } });
      if (n.state === 'lost') this.playback.onNodeLost(n.id);
      this.emit('node-state', n, prev);
    });
  }

  /** Show-clock time: ms since this hub started (monotonic). */
  showNow(): number {
    return performance.now() - this.t0;
  }

  async start(): Promise<void> {
    const { show } = this.o.show;
    if (this.o.brokerUrl) this.brokerUrl = this.o.brokerUrl;
    else {
      this.broker = await startEmbeddedBroker(this.o.port ?? 1883, '0.0.0.0', this.o.portFallback);
      this.brokerUrl = this.broker.url;
      this.log.info({ port: this.broker.port }, `embedded MQTT broker listening on port ${this.broker.port}`);
    }
    const dir = this.o.journalDir ?? join(process.cwd(), 'var', 'journal');
    this.journal = new Journal(join(dir, `${show}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`));
    this.journal.append({ type: 'show', action: 'hub-start', detail: `epoch ${this.epoch}` });
    const endpoint = new Endpoint({
      url: this.brokerUrl, show, clientId: `kuroko-${show}-hub`, reporter: 'hub', name: 'hub',
      clean: true, keepaliveS: 5, reconnectMs: 1000,
      ...this.o.connection,
      will: () => ({ channel: 'hubState', payload: this.hubState('offline') }),
      birth: () => [{ channel: 'hubState', payload: this.hubState('online') }, { channel: 'showState', payload: this.showState() }],
      onError: (e) => { this.log.error({ err: e.message }, `hub MQTT error: ${e.message}`); this.emit('hub-error', 'mqtt', e); },
    });
    this.endpoint = endpoint;
    endpoint.on('rejected', ({ topic: t, error }) => this.log.warn({ topic: t, error }, `hub rejected a message on ${t}: ${error}`));
    endpoint.on('connect', () => this.log.info({ broker: this.brokerUrl }, `hub for show ${show} connected to ${this.brokerUrl}`));
    this.route(endpoint);
    await endpoint.start();
    const hz = this.o.heartbeatHz ?? 10;
    this.hbTimer = setInterval(() => {
      this.publish('hubHeartbeat', {}, { v: 1, seq: this.hbSeq++, epoch: this.epoch, showTime: this.showNow(), ts: Date.now() });
    }, 1000 / hz);
  }

  /** One small handler per channel; decoding and refusals are the endpoint's. */
  private route(ep: Endpoint): void {
    ep.handle('nodeBirth', (m, { params }) => { this.registry.birth(params.node!, m); this.emit('birth', params.node, m); });
    ep.handle('nodeState', (m, { params }) => this.registry.state(params.node!, m.state, m.reason, m.bdSeq));
    ep.handle('nodeHeartbeat', (m, { params }) => this.registry.heartbeat(params.node!, m));
    ep.handle('nodeCueAck', (m, { params }) => { this.playback.onAck(params.node!, m); this.emit('cue-ack', params.node, m); });
    ep.handle('nodeEvent', (m, { params }) => {
      this.journal?.append({ type: 'event', source: `node/${params.node}`, kind: m.kind, data: m.data });
      this.emit('node-event', params.node, m);
    });
    ep.handle('nodeTelemetry', (m, { params }) => this.emit('telemetry', params.node, m));
    ep.handle('transcript', (m) => {
      this.transcript.push(m);
      this.journal?.append({ type: 'line', line: m });
      this.emit('line', m);
    });
    ep.handle('estop', (m) => {
      if (m.active === this.estopActive) return;
      this.estopActive = m.active;
      if (m.active) this.playback.stop(`e-stop: ${m.reason ?? m.source}`);
      this.publishShowState();
    });
    for (const name of CONSOLE_CHANNELS) {
      ep.handle(name, (m) => void this.console.handle(name, m), { onReject: () => this.console.refused(name) });
    }
  }

  /** Messages refused by the endpoint (bad payloads), as the metrics count them. */
  get rejected(): { count: number } {
    return this.endpoint?.rejected ?? this.rejectedBeforeStart;
  }
  private readonly rejectedBeforeStart = { count: 0 };

  reject(t: string, error: string): void {
    this.endpoint?.reject(t, error);
  }

  private hubState(status: HubStateT['status']): HubStateT {
    return { v: 1, status, epoch: this.epoch, show: this.o.show.show, version: SOFTWARE_VERSION, ts: Date.now() };
  }

  publish<N extends ChannelName>(name: N, params: { node?: string; kind?: string }, payload: PayloadOf<N>): void {
    this.endpoint?.publish(name, params, payload);
  }

  showState(): ShowStateT {
    const s = this.playback.snapshot();
    const armed = this.registry.all().some((n) => n.state === 'armed');
    return { v: 1, status: s.status, scene: s.scene, standby: s.standby, running: s.running, armed, estop: this.estopActive, ts: Date.now() };
  }

  private publishShowState(): void {
    const st = this.showState();
    this.publish('showState', {}, st);
    this.emit('show-state', st);
  }

  async stop(): Promise<void> {
    if (this.hbTimer) clearInterval(this.hbTimer);
    this.curator.close();
    this.playback.close();
    this.registry.close();
    this.journal?.append({ type: 'show', action: 'hub-stop' });
    // Bounded: says offline if the broker is there, and never waits on a reconnect loop.
    await this.endpoint?.stop({ channel: 'hubState', payload: this.hubState('offline') });
    await this.broker?.close();
  }
}
