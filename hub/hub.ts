/**
 * The hub: connects to the broker (or starts the embedded one), beats the show clock, keeps the
 * node registry, plays cues, answers console commands and journals what was performed.
 * It is the one place these parts are wired together; each part has one job.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { connect, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import {
  topic, filter, parseTopic, decode, encode, CHANNELS, SOFTWARE_VERSION, precompileValidators,
  type ChannelName, type PayloadOf, type TranscriptLineT, type ShowStateT,
} from '../protocol/index.ts';
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
}

export class Hub extends EventEmitter {
  readonly epoch = newCueId();
  readonly registry: NodeRegistry;
  readonly playback: Playback;
  readonly console: ConsoleCommands;
  journal: Journal | null = null;
  broker: EmbeddedBroker | null = null;
  brokerUrl = '';
  private client: MqttClient | null = null;
  private readonly t0 = performance.now();
  private hbSeq = 0;
  private hbTimer: NodeJS.Timeout | null = null;
  estopActive = false;
  readonly transcript: TranscriptLineT[] = [];
  readonly rejected = { count: 0 };
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
      // show/state carries "armed": keep it true to the nodes (the fleet's update lock reads it).
      if ((n.state === 'armed') !== (prev === 'armed')) this.publishShowState();
      this.emit('node-state', n, prev);
    });
  }

  /** Show-clock time: ms since this hub started (monotonic). */
  showNow(): number {
    return performance.now() - this.t0;
  }

  async start(): Promise<void> {
    precompileValidators();
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
    const offline = encode('hubState', { v: 1, status: 'offline', epoch: this.epoch, show, version: SOFTWARE_VERSION, ts: Date.now() });
    this.client = connect(this.brokerUrl, {
      clientId: `kuroko-${show}-hub`,
      clean: true,
      keepalive: 5,
      reconnectPeriod: 1000,
      will: { topic: topic(show, 'hubState'), payload: Buffer.from(offline), qos: 1, retain: true },
    });
    const client = this.client;
    client.on('connect', () => {
      (client.stream as Socket).setNoDelay?.(true);
      const subs: ChannelName[] = ['nodeState', 'nodeBirth', 'nodeHeartbeat', 'nodeCueAck', 'nodeEvent', 'nodeTelemetry', 'transcript', 'estop',
        'consoleSceneStart', 'consoleGo', 'consoleStop', 'consoleArm', 'consoleDisarm', 'consoleEstop', 'consoleRelease',
        'consoleNextSpeaker', 'consoleCouncilAsk', 'consoleCouncilAgent'];
      client.subscribe(subs.map((n) => filter(show, n)), { qos: 1 });
      this.publish('hubState', {}, { v: 1, status: 'online', epoch: this.epoch, show, version: SOFTWARE_VERSION, ts: Date.now() });
      this.publishShowState();
      this.log.info({ broker: this.brokerUrl }, `hub for show ${show} connected to ${this.brokerUrl}`);
    });
    client.on('error', (e) => { this.log.error({ err: e.message }, `hub MQTT error: ${e.message}`); this.emit('hub-error', 'mqtt', e); });
    client.on('message', (t, payload) => this.onMessage(t, payload));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`hub: could not reach the broker at ${this.brokerUrl} within 10 s; is it running?`)), 10000);
      client.once('connect', () => { clearTimeout(timer); resolve(); });
    });
    const hz = this.o.heartbeatHz ?? 10;
    this.hbTimer = setInterval(() => {
      this.publish('hubHeartbeat', {}, { v: 1, seq: this.hbSeq++, epoch: this.epoch, showTime: this.showNow(), ts: Date.now() });
    }, 1000 / hz);
  }

  private onMessage(t: string, payload: Buffer): void {
    const parsed = parseTopic(this.o.show.show, t);
    if (!parsed) return;
    const node = parsed.params.node;
    try {
      switch (parsed.name) {
        case 'nodeBirth': { const m = this.decoded('nodeBirth', t, payload); if (m) { this.registry.birth(node!, m); this.emit('birth', node, m); } return; }
        case 'nodeState': { const m = this.decoded('nodeState', t, payload); if (m) this.registry.state(node!, m.state, m.reason, m.bdSeq); return; }
        case 'nodeHeartbeat': { const m = this.decoded('nodeHeartbeat', t, payload); if (m) this.registry.heartbeat(node!, m); return; }
        case 'nodeCueAck': { const m = this.decoded('nodeCueAck', t, payload); if (m) { this.playback.onAck(node!, m); this.emit('cue-ack', node, m); } return; }
        case 'nodeEvent': {
          const m = this.decoded('nodeEvent', t, payload);
          if (m) {
            this.journal?.append({ type: 'event', source: `node/${node}`, kind: m.kind, data: m.data });
            this.emit('node-event', node, m);
          }
          return;
        }
        case 'nodeTelemetry': { const m = this.decoded('nodeTelemetry', t, payload); if (m) this.emit('telemetry', node, m); return; }
        case 'transcript': {
          const m = this.decoded('transcript', t, payload);
          if (m) {
            this.transcript.push(m);
            this.journal?.append({ type: 'line', line: m });
            this.emit('line', m);
          }
          return;
        }
        case 'estop': {
          const m = this.decoded('estop', t, payload);
          if (m && m.active !== this.estopActive) {
            this.estopActive = m.active;
            if (m.active) this.playback.stop(`e-stop: ${m.reason ?? m.source}`);
            this.publishShowState();
          }
          return;
        }
        default:
          if (parsed.name.startsWith('console')) void this.console.handle(parsed.name, t, payload);
      }
    } catch (e) {
      this.reject(t, `internal error while handling it: ${(e as Error).message}`);
    }
  }

  decoded<N extends ChannelName>(name: N, t: string, payload: Buffer): PayloadOf<N> | null {
    const r = decode(name, payload);
    if (r.ok) return r.value;
    this.reject(t, r.error);
    return null;
  }

  reject(t: string, error: string): void {
    this.rejected.count++;
    this.log.warn({ topic: t, error }, `hub rejected a message on ${t}: ${error}`);
    this.publish('error', {}, { v: 1, topic: t, error, reporter: 'hub', ts: Date.now() });
  }

  publish<N extends ChannelName>(name: N, params: { node?: string; kind?: string }, payload: PayloadOf<N>): void {
    const client = this.client;
    if (!client) return;
    const ch = CHANNELS[name];
    client.publish(topic(this.o.show.show, name, params), encode(name, payload), { qos: ch.qos, retain: ch.retain });
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
    const client = this.client;
    if (client?.connected) {
      // A clean disconnect suppresses the Will, so say offline ourselves.
      await client.publishAsync(topic(this.o.show.show, 'hubState'),
        encode('hubState', { v: 1, status: 'offline', epoch: this.epoch, show: this.o.show.show, version: SOFTWARE_VERSION, ts: Date.now() }), { qos: 1, retain: true }).catch(() => undefined);
    }
    await client?.endAsync(!client.connected).catch(() => undefined);
    await this.broker?.close();
  }
}
