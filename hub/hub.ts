/**
 * The hub: connects to the broker (or starts the embedded one), beats the show clock, keeps the
 * node registry, plays cues, answers console commands and journals what was performed.
 * It is the one place these parts are wired together; each part has one job.
 */
import { loadReadings, showNeedsReadings } from './readings.ts';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  SOFTWARE_VERSION, formatStamp, type ChannelName, type PayloadOf, type TranscriptLineT, type ShowStateT, type HubStateT, type EstopT,
} from '../protocol/index.ts';
import { Endpoint, type ConnectionOptions } from '../protocol/endpoint.ts';
import type { ShowT } from './show/schema.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './broker.ts';
import { NodeRegistry, type NodeInfo } from './registry.ts';
import { Playback, newCueId, type Report, type ExternalCueRunner } from './playback.ts';
import { Journal, lastJournal } from './journal.ts';
import { EstopLedger, type EstopRecord } from './estop-ledger.ts';
import { lineKey, restoreFrom, type RestoredState } from './restore.ts';
import { StallWatch, type Stall } from './stall.ts';
import { ConsoleCommands } from './console.ts';
import { Curator, type CurateRequest } from './web/curator.ts';
import { HubSecurity, type HubSecurityOptions, type Who } from './access/hub-security.ts';
import { GhostNodes } from './access/ghosts.ts';
import type { HubEvents } from './hub-events.ts';
import type { HubExtension } from './extension.ts';
import { NextSpeaker } from './next-speaker.ts';

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
  /** The stage's security (hub/access/): credentials store, TLS, signing; without it the stage is open (tests; --insecure). */
  security?: HubSecurityOptions;
}

/** A line that reaches the hub this long after it ended was queued somewhere (node, broker): journaled as late. */
const LATE_MS = 2000;
/** Lines kept in memory (hub.transcript); the journal has them all. */
const TRANSCRIPT_KEEP = 5000;
/**
 * A stall this long is a freeze (not load): the nodes' watchdog (500 ms) has disarmed them, so a
 * running scene pauses. Shorter stalls are reported; if a watchdog fired, its node's state pauses the scene.
 */
const STALL_PAUSE_MS = 1000;

/** The console channels the hub answers, all through ConsoleCommands. */
const CONSOLE_CHANNELS = ['consoleSceneStart', 'consoleGo', 'consoleStop', 'consoleArm', 'consoleDisarm', 'consoleEstop', 'consoleRelease',
  'consoleNextSpeaker', 'consoleCouncilAsk', 'consoleCouncilAgent'] as const satisfies readonly ChannelName[];

export class Hub extends EventEmitter<HubEvents> {
  readonly epoch = newCueId();
  readonly registry: NodeRegistry;
  readonly playback: Playback;
  readonly console: ConsoleCommands;
  journal: Journal | null = null;
  broker: EmbeddedBroker | null = null;
  brokerUrl = '';
  endpoint: Endpoint | null = null;
  /** The persistent session for transcript, acks and node events. */
  inbox: Endpoint | null = null;
  private readonly t0 = performance.now();
  private hbSeq = 0;
  private hbTimer: NodeJS.Timeout | null = null;
  /** E-stop state and stamps; opened in start() (the epoch lives in the journal directory). */
  private ledger: EstopLedger | null = null;
  /** What start() took back from the last journal (null on a first start). */
  restored: RestoredState | null = null;
  readonly stalls = new StallWatch();
  /** Lines already journaled (node, start time, text): a line delivered twice is journaled once. */
  private readonly seenLines = new Set<string>();
  readonly transcript: TranscriptLineT[] = [];
  /** Lines wait here for the operator in curator mode (the ensemble code calls curator.submit). */
  readonly curator = new Curator();
  /** The operator's choice of the next improvising speaker (console/next-speaker or the page); taken once used. */
  readonly nextSpeaker = new NextSpeaker();
  /** Extensions, in the order added (hub/extension.ts). */
  private readonly extensions: HubExtension[] = [];
  private started = false;
  private readonly log: Logger;
  readonly security: HubSecurity;
  readonly ghosts: GhostNodes;

  constructor(readonly o: HubOptions) {
    super();
    this.log = o.logger;
    const show = o.show;
    this.security = new HubSecurity(o.security ?? {}, o.logger);
    this.ghosts = new GhostNodes(show.cast.map((c) => c.node), (line) => this.log.warn(line));
    // An operator's decision is journaled by the page with who made it (web/live.ts); here the ones nobody made (countdown, shutdown).
    this.curator.on('settled', (s: { id: string; decision: string; by?: string }) => { if (s.by !== 'operator') this.audit({ action: `curate ${s.decision}`, by: { id: s.by ?? 'curator', role: 'hub' }, ok: true, detail: s.id }); });
    this.registry = new NodeRegistry(show.cast.map((c) => c.node));
    this.playback = new Playback({
      show,
      clock: this,
      registry: this.registry,
      sendCue: (node, cue) => this.publish('nodeCue', { node }, cue),
      stopNode: (node, reason) => this.publish('nodeCmd', { node }, { v: 1, cmd: 'stop', reason, ts: Date.now() }),
      beforeTimer: () => { this.stalls.check(); },
      runExternal: (cue, scene, signal) => {
        const runner = this.extensions.find((e) => e.cueRunner);
        return runner ? runner.cueRunner!(cue, scene, signal) : Promise.reject(new Error('no ensemble is attached to this hub (see hub/ensemble/runtime.ts attachEnsemble)'));
      },
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
      // A node disarmed by its watchdog mid-scene: the show must not run on without it.
      if (prev === 'armed' && /watchdog/.test(n.reason ?? '') && this.playback.snapshot().status === 'running') {
        this.playback.stop(`node ${n.id} was disarmed by its watchdog`);
        this.hubReport('paused', `playback paused: node ${n.id} was disarmed by its watchdog (${n.reason}); arm, then GO resumes`, { node: n.id });
      }
      this.emit('node-state', n, prev);
      // show/state carries "armed": republish on every arm, disarm, e-stop and release of a node
      // (the fleet's update lock reads it too).
      this.publishShowState();
    });
  }

  /** Adds an extension; it starts with the hub (at once if the hub runs already). */
  use<E extends HubExtension>(ext: E): E {
    if (this.extensions.some((e) => e.name === ext.name)) throw new Error(`hub: an extension named ${ext.name} is attached already`);
    const runner = this.extensions.find((e) => e.cueRunner);
    if (ext.cueRunner && runner) throw new Error(`hub: ${ext.name} would perform improv/council cues, but ${runner.name} does already`);
    this.extensions.push(ext);
    if (this.started) void Promise.resolve(ext.start?.()).catch((e: Error) => this.log.error({ extension: ext.name, err: e.message }, `extension ${ext.name} did not start: ${e.message}`));
    return ext;
  }

  /** Removes and stops an extension. */
  async drop(ext: HubExtension): Promise<void> {
    const i = this.extensions.indexOf(ext);
    if (i < 0) return;
    this.extensions.splice(i, 1);
    await ext.stop?.();
  }

  /** The extension of that name, if attached (the console finds the ensemble this way). */
  extension<E extends HubExtension>(name: string): E | undefined {
    return this.extensions.find((e) => e.name === name) as E | undefined;
  }

  get estopActive(): boolean {
    return this.ledger?.active ?? false;
  }

  /** The stamp of the newest e-stop or release the hub knows (null before any). */
  get estopStamp(): EstopRecord['stamp'] | null {
    return this.ledger?.current?.stamp ?? null;
  }

  /** Show-clock time: ms since this hub started (monotonic). */
  showNow(): number {
    return performance.now() - this.t0;
  }

  async start(): Promise<void> {
    const { show } = this.o.show;
    // Japanese lines go out with their kana reading once kuromoji is built (in the background:
    // until then a node reads its lines itself, readings.ts).
    if (showNeedsReadings(this.o.show)) void loadReadings().catch((e: Error) => this.log.warn({ err: e.message }, 'kana readings unavailable'));
    if (this.o.brokerUrl) this.brokerUrl = this.o.brokerUrl;
    else {
      const security = this.security.brokerSecurity();
      this.broker = await startEmbeddedBroker({ port: this.o.port ?? 1883, fallback: this.o.portFallback, security, admitFirst: `kuroko-${show}-hub` });
      this.security.attachBroker(this.broker);
      this.brokerUrl = this.broker.url;
      if (this.broker.tlsPort !== undefined) this.log.info({ port: this.broker.tlsPort }, `embedded MQTT broker: TLS on port ${this.broker.tlsPort}`);
      this.log.info({ port: this.broker.port }, `embedded MQTT broker listening on port ${this.broker.port}`);
    }
    const dir = this.o.journalDir ?? join(process.cwd(), 'var', 'journal');
    // The last journal of this show says what the previous hub left: e-stop, scene, playhead.
    const last = lastJournal(dir, show);
    this.restored = last ? restoreFrom(last) : null;
    // An e-stop engaged before start (from the page or a test) outranks what the last journal says.
    const early = this.ledger?.current?.active ? this.ledger.current : null;
    this.ledger = new EstopLedger(dir, show, early ?? this.restored?.estop ?? null);
    this.journal = new Journal(join(dir, `${show}-${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`), { keepOperatorText: this.o.show.privacy?.keepOperatorText === true });
    this.journal.append({ type: 'show', action: 'hub-start', detail: `epoch ${this.epoch}; e-stop epoch ${this.ledger.epoch}` });
    if (this.restored) this.takeBack(this.restored);
    this.playback.on('state', () => this.journal?.append({ type: 'playback', position: this.playback.position() }));
    // Credentials, TLS, signing of control messages and refusal of unknown node ids, as endpoint options and hooks.
    const secured = this.security.connection(this.brokerUrl, this.ghosts);
    const common = { url: this.brokerUrl, show, reporter: 'hub', keepaliveS: 5, reconnectMs: 1000, rejectedCounter: this.rejected, errorReportRate: 10, ...secured, ...this.o.connection,
      hooks: [...secured.hooks, ...(this.o.connection?.hooks ?? [])] };
    // Control and state: a clean session, so console commands sent while the hub was down are not replayed.
    const endpoint = new Endpoint({
      ...common, clientId: `kuroko-${show}-hub`, name: 'hub', clean: true,
      will: () => ({ channel: 'hubState', payload: this.hubState('offline') }),
      birth: () => [
        { channel: 'hubState', payload: this.hubState('online') },
        { channel: 'showState', payload: this.showState() },
        // Re-assert a standing e-stop on every connect: a broker restored from a stale save may hold a release.
        ...(this.ledger?.current?.active ? [{ channel: 'estop' as const, payload: this.estopMessage(this.ledger.current) }] : []),
      ],
      onError: (e) => { this.log.error({ err: e.message }, `hub MQTT error: ${e.message}`); this.emit('hub-error', 'mqtt', e); },
    });
    // What was performed: a persistent session (clean: false, QoS 1), so what nodes publish while
    // the hub is down or stalled is kept by the broker and arrives when it returns.
    const inbox = new Endpoint({ ...common, clientId: `kuroko-${show}-hub-inbox`, name: 'hub inbox', clean: false });
    this.endpoint = endpoint;
    this.inbox = inbox;
    // Bounded: a flood of bad messages becomes a few log lines (1 a second, bursts of 5), not a flood.
    for (const ep of [endpoint, inbox]) ep.on('rejected', ({ topic: t, error }) => this.security.rateLog(`hub rejected a message on ${t.slice(0, 200)}: ${error}`));
    endpoint.on('connect', () => this.log.info({ broker: this.brokerUrl }, `hub for show ${show} connected to ${this.brokerUrl}`));
    // Without the broker no cue can reach a node in time, and the nodes' watchdogs disarm them: pause, never queue cues.
    endpoint.on('close', () => {
      if (this.stopping || this.playback.snapshot().status !== 'running') return;
      this.playback.stop('the hub lost the broker');
      this.hubReport('paused', 'playback paused: the hub lost its connection to the broker; GO resumes once it is back and the nodes are armed');
    });
    this.route(endpoint, inbox);
    await inbox.start();
    await endpoint.start();
    // Subscribed: now the nodes and operators may come in (the embedded broker held them off till here).
    this.broker?.admitAll();
    this.started = true;
    for (const ext of this.extensions) await ext.start?.();
    if (this.restored) this.reportRestored(this.restored);
    this.stalls.on('stall', (st) => this.onStall(st));
    this.stalls.start();
    const hz = this.o.heartbeatHz ?? 10;
    this.hbTimer = setInterval(() => {
      this.publish('hubHeartbeat', {}, { v: 1, seq: this.hbSeq++, epoch: this.epoch, showTime: this.showNow(), ts: Date.now() });
    }, 1000 / hz);
  }

  /** One small handler per channel; decoding and refusals are the endpoints'. */
  private route(ep: Endpoint, inbox: Endpoint): void {
    ep.handle('nodeBirth', (m, { params }) => { this.registry.birth(params.node!, m); this.emit('birth', params.node!, m); });
    ep.handle('nodeState', (m, { params }) => {
      if (this.ledger?.observe(m.estopStamp)) this.log.info({ node: params.node, stamp: formatStamp(m.estopStamp) }, `node ${params.node} has seen e-stop stamp ${formatStamp(m.estopStamp)}: this hub's stamps now start at epoch ${this.ledger.epoch}`);
      this.registry.state(params.node!, m.state, m.reason, m.bdSeq);
    });
    ep.handle('nodeHeartbeat', (m, { params }) => this.registry.heartbeat(params.node!, m));
    ep.handle('nodeTelemetry', (m, { params }) => this.emit('telemetry', params.node!, m));
    ep.handle('estop', (m, { retained }) => this.onEstop(m, retained));
    for (const name of CONSOLE_CHANNELS) {
      // console/estop rides the persistent session: an e-stop sent while the hub was down still reaches it.
      const via = name === 'consoleEstop' ? inbox : ep;
      via.handle(name, (m, { topic: t }) => {
        const who = this.security.who(t);
        if (this.security.consoleAllowed(name, who)) void this.console.handle(name, m, who);
      }, { onReject: () => this.console.refused(name) });
    }
    inbox.handle('nodeCueAck', (m, { params }) => { this.playback.onAck(params.node!, m); this.emit('cue-ack', params.node!, m); });
    inbox.handle('nodeEvent', (m, { params }) => {
      this.journal?.append({ type: 'event', source: `node/${params.node}`, kind: m.kind, data: m.data });
      this.emit('node-event', params.node!, m);
    });
    inbox.handle('transcript', (m) => this.onLine(m));
  }

  /** A performed line: journaled once, marked late (with the node's own times) if it waited somewhere. */
  private onLine(m: TranscriptLineT): void {
    const key = lineKey(m);
    if (this.seenLines.has(key)) return this.confirmLine(m);
    this.rememberLine(key);
    const delayMs = Date.now() - m.ts;
    this.transcript.push(m);
    // The journal keeps every line; memory keeps the recent ones (the page, the .srt of this run).
    if (this.transcript.length > TRANSCRIPT_KEEP) this.transcript.splice(0, this.transcript.length - TRANSCRIPT_KEEP);
    this.journal?.append({ type: 'line', line: m, ...(delayMs > LATE_MS ? { late: { delayMs: Math.round(delayMs) } } : {}) });
    // Written (synchronously) before the receipt goes out: a receipt always means the line is on disk.
    this.confirmLine(m);
    this.emit('line', m);
  }

  /** The receipt the node waits for before it forgets a line (edge/unjournaled-lines.ts). */
  private confirmLine(m: TranscriptLineT): void {
    if (m.seq === undefined || !this.journal) return;
    this.publish('nodeJournaled', { node: m.node }, { v: 1, seq: m.seq, lineTs: m.ts, ts: Date.now() });
  }

  private rememberLine(key: string): void {
    this.seenLines.add(key);
    if (this.seenLines.size > 10000) this.seenLines.delete(this.seenLines.values().next().value!);
  }

  // ---- e-stop ---------------------------------------------------------------------------

  private estopMessage(r: EstopRecord): EstopT {
    return { v: 1, active: r.active, source: r.source, ...(r.reason ? { reason: r.reason } : {}), stamp: r.stamp, ts: Date.now() };
  }

  /** The operator's e-stop (console, page): stamped, journaled, published retained; playback stops. */
  /** The ledger that stamps e-stops; before start, one in memory, so an e-stop never fails. */
  private issuingLedger(): EstopLedger {
    this.ledger ??= new EstopLedger(null, this.o.show.show);
    return this.ledger;
  }

  engageEstop(source: string, reason?: string): EstopRecord {
    const r = this.issuingLedger().issue(true, source, reason);
    this.journal?.append({ type: 'estop', ...r });
    this.publish('estop', {}, this.estopMessage(r));
    this.playback.stop(`e-stop${reason ? `: ${reason}` : ''}`);
    this.publishShowState();
    return r;
  }

  /** The operator's release: a new, newer stamp; nodes stay disarmed until arm. */
  releaseEstop(source: string): EstopRecord {
    const r = this.issuingLedger().issue(false, source);
    this.journal?.append({ type: 'estop', ...r });
    this.publish('estop', {}, this.estopMessage(r));
    this.publishShowState();
    return r;
  }

  private onEstop(m: EstopT, retained: boolean): void {
    const v = this.ledger?.judge(m, retained);
    if (!v || v.kind === 'echo') return;
    if (v.kind === 'stale') {
      this.log.warn({ stamp: m.stamp, retained }, `hub ignored ${v.why}; re-asserting the e-stop`);
      this.hubReport('estop-stale', `ignored ${v.why}`, { retained, stamp: m.stamp ?? null });
      // Put the truth back in the broker's retained store.
      this.publish('estop', {}, this.estopMessage(this.ledger!.current!));
      return;
    }
    this.journal?.append({ type: 'estop', ...v.record });
    if (v.kind === 'engage') {
      this.log.warn({ source: m.source, stamp: formatStamp(v.record.stamp) }, `e-stop from ${m.source}${m.reason ? `: ${m.reason}` : ''}`);
      this.playback.stop(`e-stop: ${m.reason ?? m.source}`);
    }
    this.publishShowState();
  }

  /** A report on hub/event/{kind}, in the journal and the log. */
  hubReport(kind: string, message: string, data: Record<string, unknown> = {}): void {
    this.journal?.append({ type: 'event', source: 'hub', kind, data: { message, ...data } });
    this.publish('hubEvent', { kind }, { v: 1, kind, data: { message, ...data }, ts: Date.now() });
    this.emit('hub-report', { kind, message, data });
  }

  // ---- coming back after a crash, and after a stall ------------------------------------

  /** Takes back the last journal's state, paused: never continues by itself. */
  private takeBack(r: RestoredState): void {
    if (r.estop) this.journal!.append({ type: 'estop', ...r.estop });
    for (const k of r.journaledKeys) this.rememberLine(k);
    this.transcript.push(...r.lines);
    if (r.position) this.playback.restore(r.position);
    this.journal!.append({ type: 'restored', from: r.from, estop: !!r.estop?.active, position: r.position ? this.playback.position() : null, interrupted: r.interrupted, lines: r.lines.length });
  }

  private reportRestored(r: RestoredState): void {
    const pos = this.playback.position();
    const parts = [`restored from ${r.from.split('/').at(-1)}${r.clean ? '' : ' (the last hub did not stop cleanly)'}`];
    parts.push(r.estop?.active ? `E-STOP stands (${formatStamp(r.estop.stamp)}): release, then arm` : 'no e-stop');
    if (pos.scene) parts.push(`scene ${pos.scene} paused${pos.standby ? ` at cue ${pos.standby}` : ' at its end'}; GO resumes`);
    if (r.interrupted.length) parts.push(`interrupted: ${r.interrupted.join(', ')}`);
    if (r.lines.length) parts.push(`${r.lines.length} line(s) of this scene already performed`);
    const message = parts.join('; ');
    this.log.warn({ restored: r.from, interrupted: r.interrupted, scene: pos.scene, standby: pos.standby }, message);
    this.console.reply('restore', { ok: true, message });
    this.hubReport('restored', message, { from: r.from, estop: !!r.estop?.active, scene: pos.scene, standby: pos.standby, interrupted: r.interrupted, lines: r.lines.length, clean: r.clean });
  }

  /** The hub itself stopped running for a while: not the nodes' fault, and the scene must not run on. */
  private onStall(st: Stall): void {
    this.registry.forgive();
    const running = this.playback.snapshot().status === 'running';
    const message = st.kind === 'stall'
      ? `the hub was stalled for ${st.stalledMs} ms${running ? '; playback paused (GO resumes)' : ''}`
      : `the wall clock jumped ${st.wallJumpMs} ms against the monotonic clock`;
    if (st.kind === 'stall' && running && st.stalledMs >= STALL_PAUSE_MS) this.playback.stop('the hub stalled');
    this.hubReport(st.kind === 'stall' ? 'hub-stall' : 'clock-jump', message, { ...st });
  }

  /** Messages refused by either endpoint (bad payloads), as the metrics count them. */
  readonly rejected = { count: 0 };

  reject(t: string, error: string): void {
    this.endpoint?.reject(t, error);
  }

  private hubState(status: HubStateT['status']): HubStateT {
    return { v: 1, status, epoch: this.epoch, show: this.o.show.show, version: SOFTWARE_VERSION, ts: Date.now() };
  }

  publish<N extends ChannelName>(name: N, params: { node?: string; kind?: string }, payload: PayloadOf<N>): void {
    this.endpoint?.publish(name, params, payload);
  }

  /** Journals who did what (console over MQTT, the page, the curator): the audit trail. */
  audit(a: { action: string; by: Who; ok: boolean; detail?: string; args?: Record<string, unknown> }): void {
    this.journal?.append({ type: 'audit', action: a.action, by: a.by.id, role: a.by.role, ok: a.ok, ...(a.detail ? { detail: a.detail } : {}), ...(a.args && Object.keys(a.args).length ? { args: a.args } : {}) });
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

  private stopping = false;

  async stop(): Promise<void> {
    this.stopping = true;
    for (const ext of [...this.extensions].reverse()) await Promise.resolve(ext.stop?.()).catch((e: Error) => this.log.warn({ extension: ext.name, err: e.message }, `extension ${ext.name} did not stop cleanly: ${e.message}`));
    this.started = false;
    if (this.hbTimer) clearInterval(this.hbTimer);
    this.stalls.stop();
    this.curator.close();
    this.playback.close();
    this.registry.close();
    this.journal?.append({ type: 'show', action: 'hub-stop' });
    // Bounded: says offline if the broker is there, and never waits on a reconnect loop.
    await Promise.all([this.endpoint?.stop({ channel: 'hubState', payload: this.hubState('offline') }), this.inbox?.stop()]);
    await this.broker?.close();
  }
}
