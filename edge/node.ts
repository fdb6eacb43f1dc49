/**
 * An edge node: one robot's connection to the show. It connects with its Last Will (state lost,
 * with the bdSeq of its birth), publishes its birth certificate, follows the hub's show clock,
 * runs its cues through the safety gate, and reports state, heartbeats, telemetry and events.
 * Every incoming payload is checked against the contract; a bad one is reported and dropped.
 */
import { connect, type MqttClient, type IClientOptions } from 'mqtt';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  topic, filter, parseTopic, decode, encode, SOFTWARE_VERSION, CHANNELS, precompileValidators,
  type ChannelName, type PayloadOf, type NodeBirthT, type CueAckStatusT,
} from '../protocol/index.ts';
import type { LoadedProfile } from '../firmware-config/profile.ts';
import type { HardwareBackend, SensorReading } from './hardware/types.ts';
import type { SpeechEngine } from './voice/types.ts';
import { SafetyGate } from './safety.ts';
import { EstopLatch, FileLatchStore, MemoryLatchStore } from './estop-latch.ts';
import { defaultLatchFile, obeyConsoleEstop, obeyEstopMessage } from './estop-input.ts';
import { Outbox } from './outbox.ts';
import { MotionController } from './motion.ts';
import { CueExecutor } from './cue-executor.ts';
import { ShowClock } from './show-clock.ts';
import type { Adlibber } from './adlib.ts';
import { CoverForHub } from './cover.ts';

export interface EdgeNodeOptions {
  show: string;
  node: string;
  character?: string;
  brokerUrl: string;
  profile: LoadedProfile;
  /** Handed to the safety gate, its only holder; the node never writes to it. */
  hardware: HardwareBackend;
  voice: SpeechEngine;
  logger: Logger;
  heartbeatMs?: number;
  watchdogMs?: number;
  /** The local model, to ad-lib in character when the hub cannot, and to react to sensors. */
  adlib?: Adlibber;
  /** The e-stop latch file (default: var/edge/{show}/{node}/estop-latch.json under the var dir); null keeps it in memory only. */
  latchFile?: string | null;
  /** Transcript lines and cue acks kept while the broker is unreachable (default 1000). */
  outboxLimit?: number;
}

/** What the node performed, waiting for the broker (see Outbox). */
type Performed =
  | { name: 'transcript'; payload: PayloadOf<'transcript'> }
  | { name: 'nodeCueAck'; payload: PayloadOf<'nodeCueAck'> };

/** A reading closer than this to the last one published waits for the 1 s refresh. */
const TELEMETRY_DEADBAND: Record<SensorReading['kind'], number> = { distance: 2, temperature: 0.5 };



export class EdgeNode {
  readonly gate: SafetyGate;
  readonly motion: MotionController;
  readonly clock = new ShowClock();
  readonly executor: CueExecutor;
  private client: MqttClient | null = null;
  private bdSeq = 0;
  private hbSeq = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();
  private readonly log: Logger;
  readonly rejected = { count: 0 };
  private readonly cover: CoverForHub | null;
  private readonly lastTelemetry = new Map<string, { value: number; at: number }>();
  readonly outbox: Outbox<Performed>;

  constructor(private readonly o: EdgeNodeOptions) {
    this.log = o.logger;
    const profile = o.profile.profile;
    const latchFile = o.latchFile === undefined ? defaultLatchFile(o.show, o.node) : o.latchFile;
    const latch = new EstopLatch(latchFile === null ? new MemoryLatchStore() : new FileLatchStore(latchFile));
    this.gate = new SafetyGate(profile, o.hardware, o.watchdogMs ?? profile.safety?.watchdogMs ?? 500, { latch });
    this.motion = new MotionController(profile, this.gate);
    this.outbox = new Outbox<Performed>({
      limit: o.outboxLimit,
      connected: () => !!this.client?.connected,
      send: (p, delayedMs) => {
        if (p.name === 'transcript') this.publish('transcript', {}, delayedMs ? { ...p.payload, delayedMs } : p.payload);
        else this.publish('nodeCueAck', { node: o.node }, delayedMs ? { ...p.payload, delayedMs } : p.payload);
      },
    });
    this.executor = new CueExecutor({
      profile, voice: o.voice, gate: this.gate, motion: this.motion, clock: this.clock,
      character: o.character,
      onLateLine: (cue) => this.cover?.speak('late-line', cue.scene) ?? false,
      sink: {
        ack: (cue, status, extra) => this.ack(cue, status, extra),
        transcript: (line) => this.outbox.offer({ name: 'transcript', payload: { v: 1, node: o.node, ts: Date.now(), ...line } }),
      },
    });
    this.cover = o.adlib ? new CoverForHub({
      adlib: o.adlib, voice: o.voice, gate: this.gate, executor: this.executor, clock: this.clock, log: this.log,
      character: o.character ?? o.node,
      publishLine: (line) => this.outbox.offer({ name: 'transcript', payload: { v: 1, node: o.node, ts: Date.now(), ...line } }),
      publishEvent: (data) => this.publish('nodeEvent', { node: o.node, kind: 'adlib' }, { v: 1, kind: 'adlib', data, ts: Date.now() }),
    }) : null;
    this.gate.on('state', (state, reason) => {
      this.log.info({ state, reason }, `node ${o.node} is ${state}: ${reason}`);
      this.publishState();
      this.cover?.followHub(state, reason);
    });
    this.gate.on('event', (e) => {
      if (e.kind === 'obstacle') this.cover?.speak('proximity');
      this.log.warn({ event: e.kind, ...e.data }, `safety event ${e.kind} on node ${o.node}`);
      this.publish('nodeEvent', { node: o.node, kind: e.kind }, { v: 1, kind: e.kind, data: e.data, ts: Date.now() });
    });
    this.gate.on('reading', (r: SensorReading) => {
      // The gate has acted on every reading already; the network gets what changed, or a refresh each second.
      const last = this.lastTelemetry.get(r.sensor);
      const now = Date.now();
      if (last && Math.abs(r.value - last.value) < TELEMETRY_DEADBAND[r.kind] && now - last.at < 1000) return;
      this.lastTelemetry.set(r.sensor, { value: r.value, at: now });
      this.publish('nodeTelemetry', { node: o.node, sensor: r.sensor }, { v: 1, sensor: r.sensor, value: r.value, unit: r.unit, ts: now });
    });
    this.gate.on('report', (kind, data) => this.publish('nodeEvent', { node: o.node, kind }, { v: 1, kind, data, ts: Date.now() }));
  }

  get id(): string {
    return this.o.node;
  }

  private willOptions(): IClientOptions['will'] {
    return {
      topic: topic(this.o.show, 'nodeState', { node: this.o.node }),
      payload: Buffer.from(encode('nodeState', { v: 1, state: 'lost', reason: 'connection lost (Last Will)', bdSeq: this.bdSeq, ts: Date.now() })),
      qos: 1,
      retain: true,
    };
  }

  async start(): Promise<void> {
    precompileValidators();
    await this.gate.open();
    const { show, node } = this.o;
    this.client = connect(this.o.brokerUrl, {
      clientId: `kuroko-${show}-node-${node}`,
      clean: true,
      keepalive: 5,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
      will: this.willOptions(),
    });
    const client = this.client;
    client.on('connect', () => {
      (client.stream as Socket).setNoDelay?.(true);
      this.log.info({ broker: this.o.brokerUrl, bdSeq: this.bdSeq }, `node ${node} connected to ${this.o.brokerUrl}`);
      const subs: ChannelName[] = ['hubHeartbeat', 'hubState', 'estop', 'consoleEstop', 'nodeCue', 'nodeCmd', ...(this.o.adlib ? ['transcript' as const] : [])];
      client.subscribe(subs.map((n) => filter(show, n, { node })), { qos: 1 });
      this.publishBirth();
      this.publishState();
      // What was performed while the broker was away goes out now, oldest first.
      this.outbox.flush();
    });
    client.on('close', () => {
      // The next session gets a new birth/death sequence number, and its Will must carry it.
      this.bdSeq = (this.bdSeq + 1) % 256;
      client.options.will = this.willOptions();
    });
    // While the broker is away, mqtt.js retries every second: say so once, not every second.
    let lastError = '';
    client.on('error', (e) => {
      if (e.message !== lastError) this.log.error({ err: e.message }, `node ${node}: MQTT error: ${e.message}`);
      lastError = e.message;
    });
    client.on('connect', () => { lastError = ''; });
    client.on('message', (t, payload, packet) => this.onMessage(t, payload, packet.retain));
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.o.heartbeatMs ?? 1000);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node ${node}: could not reach the broker at ${this.o.brokerUrl} within 10 s; is it running? (start the hub, or pass --broker)`)), 10000);
      client.once('connect', () => { clearTimeout(timer); resolve(); });
    });
  }

  private onMessage(t: string, payload: Buffer, retained = false): void {
    const parsed = parseTopic(this.o.show, t);
    if (!parsed) return;
    try {
      switch (parsed.name) {
        case 'hubHeartbeat': {
          const m = this.decoded('hubHeartbeat', t, payload);
          if (!m) return;
          this.clock.observe(m.showTime, m.epoch);
          this.gate.hubHeartbeat();
          return;
        }
        case 'hubState': {
          const m = this.decoded('hubState', t, payload);
          if (m) this.log.info({ hub: m.status, epoch: m.epoch }, `hub is ${m.status}`);
          return;
        }
        case 'estop': {
          const m = this.decoded('estop', t, payload);
          if (m) obeyEstopMessage(this.gate, m, retained);
          return;
        }
        case 'consoleEstop': {
          // Nodes obey the console e-stop directly, so it works even when the hub is down.
          const m = this.decoded('consoleEstop', t, payload);
          if (m) obeyConsoleEstop(this.gate, m);
          return;
        }
        case 'nodeCue': {
          const m = this.decoded('nodeCue', t, payload);
          if (m) this.executor.receive(m);
          return;
        }
        case 'transcript': {
          // What is said on stage is what the local model answers to.
          const m = this.decoded('transcript', t, payload);
          if (m && this.o.adlib) this.o.adlib.hear(m.character, m.text);
          return;
        }
        case 'nodeCmd': {
          const m = this.decoded('nodeCmd', t, payload);
          if (m) this.command(m);
          return;
        }
        default:
          return;
      }
    } catch (e) {
      // Nothing a message says may crash a node.
      this.reject(t, `internal error while handling it: ${(e as Error).message}`);
    }
  }

  private decoded<N extends ChannelName>(name: N, t: string, payload: Buffer): PayloadOf<N> | null {
    const r = decode(name, payload);
    if (r.ok) return r.value;
    this.reject(t, r.error);
    return null;
  }

  private reject(t: string, error: string): void {
    this.rejected.count++;
    this.log.warn({ topic: t, error }, `node ${this.o.node} rejected a message on ${t}: ${error}`);
    this.publish('error', {}, { v: 1, topic: t, error, reporter: `node/${this.o.node}`, ts: Date.now() });
  }

  private command(m: PayloadOf<'nodeCmd'>): void {
    switch (m.cmd) {
      case 'arm': {
        const r = this.gate.arm();
        if (!r.ok) {
          this.log.warn({ reason: r.reason }, `node ${this.o.node} refused to arm: ${r.reason}`);
          this.publish('nodeEvent', { node: this.o.node, kind: 'arm-refused' }, { v: 1, kind: 'arm-refused', data: { reason: r.reason }, ts: Date.now() });
        }
        return;
      }
      case 'disarm':
        this.gate.disarm(m.reason ?? 'disarmed by the hub');
        return;
      case 'stop':
        this.executor.stopAll(m.reason ?? 'stopped by the operator');
        this.motion.stopAll();
        return;
      case 'rebirth':
        this.publishBirth();
        this.publishState();
        return;
    }
  }

  private ack(cue: string, status: CueAckStatusT, extra: { reason?: string; durationMs?: number } = {}): void {
    this.outbox.offer({ name: 'nodeCueAck', payload: { v: 1, cue, node: this.o.node, status, ...extra, showTime: this.clock.showNow(), ts: Date.now() } });
  }

  birth(): NodeBirthT {
    const p = this.o.profile.profile;
    return {
      v: 1,
      node: this.o.node,
      ...(this.o.character ? { character: this.o.character } : {}),
      bdSeq: this.bdSeq,
      software: { name: 'kuroko-edge', version: SOFTWARE_VERSION },
      platform: p.platform,
      hardware: this.gate.hardwareKind,
      configHash: this.o.profile.hash,
      capabilities: {
        actuators: [
          ...(p.servos ?? []).map((s) => ({ id: s.id, kind: 'servo' as const, min: s.min, max: s.max, rest: s.rest, maxSpeed: s.maxSpeed })),
          ...(p.motors ?? []).map((m) => ({ id: m.id, kind: 'motor' as const, maxDuty: m.maxDuty })),
          ...(p.leds ?? []).map((l) => ({ id: l.id, kind: 'led' as const })),
        ],
        sensors: (p.sensors ?? []).map((s) => ({ id: s.id, kind: s.kind, unit: s.kind === 'distance' ? 'cm' : s.kind === 'temperature' ? 'C' : 'frame' })),
        gestures: Object.keys(p.gestures ?? {}),
        voice: true,
        localModel: !!this.o.adlib,
      },
      ts: Date.now(),
    };
  }

  private publishBirth(): void {
    this.publish('nodeBirth', { node: this.o.node }, this.birth());
  }

  private publishState(): void {
    this.publish('nodeState', { node: this.o.node }, { v: 1, state: this.gate.state, reason: this.gate.reason, bdSeq: this.bdSeq, ts: Date.now() });
  }

  private heartbeat(): void {
    this.publish('nodeHeartbeat', { node: this.o.node }, {
      v: 1,
      seq: this.hbSeq++,
      state: this.gate.state,
      uptimeS: (Date.now() - this.startedAt) / 1000,
      clockOffsetMs: this.clock.offsetMs,
      hubAgeMs: this.clock.hubAgeMs(),
      rssBytes: process.memoryUsage.rss(),
      queueDropped: this.outbox.dropped,
      refusedWrites: this.gate.refused.total,
      ts: Date.now(),
    });
  }

  private publish<N extends ChannelName>(name: N, params: { node?: string; sensor?: string; kind?: string }, payload: PayloadOf<N>): void {
    const client = this.client;
    if (!client?.connected) return;
    const ch = CHANNELS[name];
    client.publish(topic(this.o.show, name, params), encode(name, payload), { qos: ch.qos, retain: ch.retain });
  }

  async stop(reason = 'node shut down'): Promise<void> {
    // Safe outputs first (synchronously, inside shutdown), then everything else; the hardware is released last.
    const shutdown = this.gate.shutdown(reason);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.cover?.close();
    this.executor.stopAll(reason);
    this.motion.close();
    const client = this.client;
    if (client?.connected) {
      // A clean shutdown says so itself, since a clean disconnect suppresses the Last Will.
      await client.publishAsync(topic(this.o.show, 'nodeState', { node: this.o.node }),
        encode('nodeState', { v: 1, state: 'lost', reason, bdSeq: this.bdSeq, ts: Date.now() }), { qos: 1, retain: true }).catch(() => undefined);
    }
    // Without a broker there is nothing to flush: close at once rather than wait on a reconnect.
    await client?.endAsync(!client.connected).catch(() => undefined);
    await shutdown.catch(() => undefined);
  }
}
