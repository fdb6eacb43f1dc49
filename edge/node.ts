/**
 * An edge node: one robot's connection to the show. It connects with its Last Will (state lost,
 * with the bdSeq of its birth), publishes its birth certificate, follows the hub's show clock,
 * runs its cues through the safety gate, and reports state, heartbeats, telemetry and events.
 * Every incoming payload is checked against the contract; a bad one is reported and dropped.
 */
import type { Logger } from 'pino';
import {
  SOFTWARE_VERSION, type ChannelName, type PayloadOf, type NodeBirthT, type CueAckStatusT, type NodeStateT, type TranscriptLineT,
} from '../protocol/index.ts';
import { Endpoint, type ConnectionOptions } from '../protocol/endpoint.ts';
import { precompileValidators } from '../protocol/codec.ts';
import { controlHook } from '../protocol/signing.ts';
import { tlsForUrl, type ClientSecurity } from '../protocol/credentials.ts';
import { TokenBucket } from '../protocol/rate-limit.ts';
import type { LoadedProfile } from '../firmware-config/profile.ts';
import type { HardwareBackend, SensorReading } from './hardware/types.ts';
import type { SpeechEngine } from './voice/types.ts';
import { SafetyGate } from './safety.ts';
import type { SafetyEvent } from './safety-events.ts';
import { EstopLatch, FileLatchStore, MemoryLatchStore } from './estop-latch.ts';
import { defaultLatchFile, obeyConsoleEstop, obeyEstopMessage } from './estop-input.ts';
import { Outbox } from './outbox.ts';
import { UnjournaledLines } from './unjournaled-lines.ts';
import { CounterFloor, defaultCounterFloorFile } from './counter-floor.ts';
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
  /** Credentials, TLS and message hooks for the broker connection (issue 10). */
  connection?: Partial<Pick<ConnectionOptions, 'username' | 'password' | 'tls' | 'hooks'>>;
  /** User name, password, TLS and the show key (protocol/credentials.ts); none on an --insecure stage. */
  security?: ClientSecurity;
  /** The e-stop latch file (default: var/edge/{show}/{node}/estop-latch.json under the var dir); null keeps it in memory only. */
  latchFile?: string | null;
  /** Where the highest accepted signed counter is kept across restarts (default in the var dir; null: memory only). */
  counterFloorFile?: string | null;
  /** Transcript lines and cue acks kept while the broker is unreachable (default 1000). */
  outboxLimit?: number;
}

/** What the node performed, waiting for the broker (see Outbox). */
type Performed =
  | { name: 'transcript'; payload: PayloadOf<'transcript'> }
  | { name: 'nodeCueAck'; payload: PayloadOf<'nodeCueAck'> };

/** A line the hub has not confirmed this long after it was sent is sent again. */
const UNJOURNALED_RESEND_MS = 10_000;

/** A reading closer than this to the last one published waits for the 1 s refresh. */
const TELEMETRY_DEADBAND: Record<SensorReading['kind'], number> = { distance: 2, temperature: 0.5 };



export class EdgeNode {
  readonly gate: SafetyGate;
  readonly motion: MotionController;
  readonly clock = new ShowClock();
  readonly executor: CueExecutor;
  private endpoint: Endpoint | null = null;
  private bdSeq = 0;
  private hbSeq = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private readonly startedAt = Date.now();
  private readonly log: Logger;
  readonly rejected = { count: 0 };
  private readonly cover: CoverForHub | null;
  private readonly lastTelemetry = new Map<string, { value: number; at: number }>();
  /** Refusal log lines are bounded: a flood of forged messages must not become a flood of lines. */
  private readonly refusalLog = new TokenBucket(5, 10);
  readonly outbox: Outbox<Performed>;
  private counterFloor: CounterFloor | null = null;
  /** Performed lines the hub has not yet confirmed journaling (edge/unjournaled-lines.ts). */
  readonly unjournaled: UnjournaledLines;

  constructor(private readonly o: EdgeNodeOptions) {
    this.log = o.logger;
    const profile = o.profile.profile;
    const latchFile = o.latchFile === undefined ? defaultLatchFile(o.show, o.node) : o.latchFile;
    const latch = new EstopLatch(latchFile === null ? new MemoryLatchStore() : new FileLatchStore(latchFile));
    this.gate = new SafetyGate(profile, o.hardware, o.watchdogMs ?? profile.safety?.watchdogMs ?? 500, { latch });
    // What a cue asked beyond the profile's limits is reported like the gate's own events.
    this.motion = new MotionController(profile, this.gate, 20, (data) => this.safetyEvent({ kind: 'limit', data }));
    this.unjournaled = new UnjournaledLines({ limit: o.outboxLimit });
    this.outbox = new Outbox<Performed>({
      limit: o.outboxLimit,
      connected: () => !!this.endpoint?.connected,
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
        transcript: (line) => {
          // The node's own record of what it performed (the crash drills compare it with the hub's journal).
          this.log.info({ performed: { cue: line.cue, scene: line.scene, text: line.text } }, `performed: ${line.text}`);
          this.sendLine(line);
        },
      },
    });
    this.cover = o.adlib ? new CoverForHub({
      adlib: o.adlib, voice: o.voice, gate: this.gate, executor: this.executor, clock: this.clock, log: this.log,
      character: o.character ?? o.node,
      publishLine: (line) => this.sendLine(line),
      publishEvent: (data) => this.publish('nodeEvent', { node: o.node, kind: 'adlib' }, { v: 1, kind: 'adlib', data, ts: Date.now() }),
    }) : null;
    this.gate.on('state', (state, reason) => {
      this.log.info({ state, reason }, `node ${o.node} is ${state}: ${reason}`);
      this.publishState();
      this.cover?.followHub(state, reason);
    });
    this.gate.on('event', (e) => this.safetyEvent(e));
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

  private safetyEvent(e: SafetyEvent): void {
    if (e.kind === 'obstacle') this.cover?.speak('proximity');
    this.log.warn({ event: e.kind, ...e.data }, `safety event ${e.kind} on node ${this.o.node}`);
    this.publish('nodeEvent', { node: this.o.node, kind: e.kind }, { v: 1, kind: e.kind, data: e.data, ts: Date.now() });
  }

  get id(): string {
    return this.o.node;
  }

  private lostState(reason: string): NodeStateT {
    return { v: 1, state: 'lost', reason, bdSeq: this.bdSeq, ts: Date.now() };
  }

  async start(): Promise<void> {
    precompileValidators();
    // On a secured stage, signed messages from before a restart stay refused after it.
    const floorFile = this.o.counterFloorFile === undefined ? defaultCounterFloorFile(this.o.show, this.o.node) : this.o.counterFloorFile;
    if (this.o.security?.showKey && floorFile) this.counterFloor = new CounterFloor(floorFile, (m) => this.log.warn(m));
    await this.gate.open();
    const { show, node } = this.o;
    const ep = new Endpoint({
      url: this.o.brokerUrl, show, clientId: `kuroko-${show}-node-${node}`, reporter: `node/${node}`, name: `node ${node}`,
      clean: true, keepaliveS: 5, reconnectMs: 1000, connectTimeoutMs: 5000, dropWhileOffline: true,
      hint: '(start the hub, or pass --broker)',
      // Credentials and TLS; the hub's control messages verified (signed cues, cmds, heartbeats, releases).
      ...(this.o.security?.username !== undefined ? { username: this.o.security.username, password: this.o.security.password } : {}),
      ...(this.o.security ? tlsForUrl(this.o.security, this.o.brokerUrl) : {}),
      errorReportRate: 5,
      ...this.o.connection,
      hooks: [controlHook(this.o.security?.showKey, this.counterFloor ?? undefined), ...(this.o.connection?.hooks ?? [])],
      will: () => ({ channel: 'nodeState', params: { node }, payload: this.lostState('connection lost (Last Will)') }),
      birth: () => [{ channel: 'nodeBirth', params: { node }, payload: this.birth() }, { channel: 'nodeState', params: { node }, payload: this.stateMessage() }],
      onError: (e) => this.log.error({ err: e.message }, `node ${node}: MQTT error: ${e.message}`),
    });
    this.endpoint = ep;
    // The next session gets a new birth/death sequence number (the endpoint recomputes the Will after this).
    ep.on('close', () => { this.bdSeq = (this.bdSeq + 1) % 256; });
    ep.on('connect', () => {
      this.log.info({ broker: this.o.brokerUrl, bdSeq: this.bdSeq }, `node ${node} connected to ${this.o.brokerUrl}`);
      // What was performed while the broker was away goes out now, oldest first.
      this.outbox.flush();
    });
    ep.on('rejected', ({ topic: t, error }) => {
      this.rejected.count++;
      const dropped = this.refusalLog.takeReporting();
      if (dropped !== null) this.log.warn({ topic: t, error, dropped }, `node ${node} rejected a message on ${t}: ${error}${dropped ? ` (${dropped} more not logged)` : ''}`);
    });
    this.route(ep);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.o.heartbeatMs ?? 1000);
    await ep.start();
  }

  /** One small handler per channel; decoding and refusals are the endpoint's. */
  private route(ep: Endpoint): void {
    const { node } = this.o;
    ep.handle('hubHeartbeat', (m) => {
      this.clock.observe(m.showTime, m.epoch);
      this.gate.hubHeartbeat();
    });
    ep.handle('hubState', (m) => {
      this.log.info({ hub: m.status, epoch: m.epoch }, `hub is ${m.status}`);
      // A hub (back) online may not have journaled what this node performed: send it what it has not confirmed.
      if (m.status === 'online') this.resendUnjournaled(500);
    });
    ep.handle('nodeJournaled', (m) => this.unjournaled.journaled(m.seq, m.lineTs), { params: { node } });
    // A retained release is a stored value, never an operator's act: the latch decides (edge/estop-input.ts).
    ep.handle('estop', (m, ctx) => obeyEstopMessage(this.gate, m, ctx.retained));
    // Nodes obey the console e-stop directly, so it works even when the hub is down.
    ep.handle('consoleEstop', (m) => obeyConsoleEstop(this.gate, m));
    ep.handle('nodeCue', (m) => this.executor.receive(m), { params: { node } });
    ep.handle('nodeCmd', (m) => this.command(m), { params: { node } });
    // What is said on stage is what the local model answers to.
    if (this.o.adlib) ep.handle('transcript', (m) => this.o.adlib!.hear(m.character, m.text));
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

  /** A performed line: numbered and kept until the hub's receipt, then sent (or queued while the broker is away). */
  private sendLine(line: Omit<TranscriptLineT, 'v' | 'node' | 'ts' | 'seq'>): void {
    this.outbox.offer({ name: 'transcript', payload: this.unjournaled.keep({ v: 1, node: this.o.node, ts: Date.now(), ...line }) });
  }

  /** Lines without the hub's receipt, sent at least `olderThanMs` ago, go out again (the hub journals each once). */
  private resendUnjournaled(olderThanMs: number): void {
    if (!this.endpoint?.connected) return; // the outbox already holds what waits for the broker
    for (const line of this.unjournaled.resend(olderThanMs)) this.outbox.offer({ name: 'transcript', payload: line });
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

  private stateMessage(): NodeStateT {
    const seen = this.gate.latch.state.newestSeen;
    return { v: 1, state: this.gate.state, reason: this.gate.reason, bdSeq: this.bdSeq, ...(seen ? { estopStamp: { epoch: seen.epoch, seq: seen.seq } } : {}), ts: Date.now() };
  }

  private publishState(): void {
    this.publish('nodeState', { node: this.o.node }, this.stateMessage());
  }

  private heartbeat(): void {
    // A receipt this late was lost (or the hub could not write): try again.
    this.resendUnjournaled(UNJOURNALED_RESEND_MS);
    this.publish('nodeHeartbeat', { node: this.o.node }, {
      v: 1,
      seq: this.hbSeq++,
      state: this.gate.state,
      uptimeS: (Date.now() - this.startedAt) / 1000,
      clockOffsetMs: this.clock.offsetMs,
      hubAgeMs: this.clock.hubAgeMs(),
      rssBytes: process.memoryUsage.rss(),
      queueDropped: this.outbox.dropped + this.unjournaled.dropped,
      linesUnconfirmed: this.unjournaled.size,
      refusedWrites: this.gate.refused.total,
      ts: Date.now(),
    });
  }

  private publish<N extends ChannelName>(name: N, params: { node?: string; sensor?: string; kind?: string }, payload: PayloadOf<N>): void {
    this.endpoint?.publish(name, params, payload);
  }

  async stop(reason = 'node shut down'): Promise<void> {
    // Safe outputs first (synchronously, inside shutdown), then everything else; the hardware is released last.
    const shutdown = this.gate.shutdown(reason);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.cover?.close();
    this.executor.stopAll(reason);
    this.motion.close();
    // A clean shutdown says so itself (a clean disconnect suppresses the Will); bounded, broker or not.
    await this.endpoint?.stop({ channel: 'nodeState', params: { node: this.o.node }, payload: this.lostState(reason) });
    this.counterFloor?.close();
    await shutdown.catch(() => undefined);
  }
}
