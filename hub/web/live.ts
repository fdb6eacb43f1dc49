/**
 * The live stage over WebSocket: every page gets a snapshot when it connects, then the hub's
 * events as they happen, and sends its controls back. Whether a page may control is decided per
 * message (the token it carries, or the one it connected with); a page without one is a read-only
 * view where that is allowed, and is refused with a message it can show where it is not.
 */
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { TranscriptLineT, TelemetryT, NodeEventT } from '../../protocol/index.ts';
import type { Hub } from '../hub.ts';
import type { NodeInfo } from '../registry.ts';
import type { Report } from '../playback.ts';
import type { CurateRequest, CurateSettled } from './curator.ts';
import { tokenMatches, requestToken } from './auth.ts';
import { runControl, nextScene, type ControlMessage, type StageSettings } from './controls.ts';

export interface LogEntry { t: number; level: 'info' | 'warn' | 'error'; source: string; text: string }

const LOG_KEEP = 300;
const TRANSCRIPT_KEEP = 300;
/** Sensors report up to 5 Hz per node; the page needs no more than this. */
const TELEMETRY_FLUSH_MS = 250;

interface Client { ws: WebSocket; authed: boolean; goInFlight: boolean }

export interface LiveStageOptions { token: string; readOnlyView: boolean }

export class LiveStage {
  private readonly clients = new Set<Client>();
  private readonly log: LogEntry[] = [];
  private readonly lineSeen = new WeakMap<TranscriptLineT, number>(); // when each line arrived
  private readonly telemetry = new Map<string, Record<string, { value: number; unit: string }>>();
  private pendingTelemetry = new Map<string, { node: string; sensor: string; value: number; unit: string }>();
  private readonly latency = new Map<string, number>();
  private readonly flushTimer: NodeJS.Timeout;
  readonly settings: StageSettings = { showMode: false };
  private readonly off: Array<() => void> = [];

  constructor(private readonly hub: Hub, private readonly o: LiveStageOptions) {
    const listen = (em: NodeJS.EventEmitter, ev: string, fn: (...a: never[]) => void) => {
      em.on(ev, fn as (...a: unknown[]) => void);
      this.off.push(() => em.off(ev, fn as (...a: unknown[]) => void));
    };
    listen(hub, 'node-state', (n: NodeInfo, prev: string) => {
      this.note(n.state === 'lost' || n.state === 'fault' || n.state === 'estopped' ? 'warn' : 'info', `node/${n.id}`, `${prev} → ${n.state}${n.reason ? ` (${n.reason})` : ''}`);
      this.broadcast({ type: 'node', node: this.nodeView(n) });
    });
    listen(hub, 'birth', (id: string) => { const n = hub.registry.get(id); if (n) this.broadcast({ type: 'node', node: this.nodeView(n) }); });
    listen(hub, 'show-state', () => this.broadcast({ type: 'show', show: this.showView() }));
    listen(hub, 'line', (l: TranscriptLineT) => {
      this.lineSeen.set(l, Date.now());
      this.broadcast({ type: 'line', line: l });
    });
    listen(hub, 'report', (r: Report) => this.note('warn', 'playback', r.message));
    listen(hub, 'node-event', (node: string, e: NodeEventT) => {
      const detail = Object.entries(e.data).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
      if (e.kind !== 'motion') this.note(['estop', 'estop-button', 'fault', 'overheat', 'obstacle', 'watchdog', 'limit', 'arm-refused'].includes(e.kind) ? 'warn' : 'info', `node/${node}`, `${e.kind}${detail ? `: ${detail}` : ''}`);
    });
    listen(hub, 'telemetry', (node: string, t: TelemetryT) => {
      const mine = this.telemetry.get(node) ?? {};
      mine[t.sensor] = { value: t.value, unit: t.unit };
      this.telemetry.set(node, mine);
      this.pendingTelemetry.set(`${node}/${t.sensor}`, { node, sensor: t.sensor, value: t.value, unit: t.unit });
    });
    listen(hub.playback, 'ack-latency', ({ node, latencyMs }: { node: string; latencyMs?: number }) => {
      if (latencyMs === undefined) return;
      this.latency.set(node, latencyMs);
      this.broadcast({ type: 'latency', node, ms: latencyMs });
    });
    listen(hub.curator, 'curate', (c: CurateRequest) => this.broadcast({ type: 'curate', item: this.curateView(c) }));
    listen(hub.curator, 'settled', (s: CurateSettled) => {
      this.note('info', 'curator', `line ${s.id} ${s.decision}${s.by === 'timeout' ? ' (countdown ended)' : ''}`);
      this.broadcast({ type: 'curate-done', ...s });
    });
    this.flushTimer = setInterval(() => {
      if (!this.pendingTelemetry.size) return;
      const items = [...this.pendingTelemetry.values()];
      this.pendingTelemetry = new Map();
      this.broadcast({ type: 'telemetry', items });
    }, TELEMETRY_FLUSH_MS);
    this.flushTimer.unref();
  }

  /** A new WebSocket from a page. */
  attach(ws: WebSocket, req: IncomingMessage): void {
    const authed = tokenMatches(this.o.token, requestToken(req));
    if (!authed && !this.o.readOnlyView) {
      const given = requestToken(req) !== undefined;
      this.send(ws, { type: 'refused', message: given
        ? 'The token in this address is wrong. Open the address the hub printed at start (…/?token=…).'
        : 'This page needs the control token: open the address the hub printed at start (…/?token=…), or ask for a read-only view (--read-only-view).' });
      ws.close(4401, 'token required');
      return;
    }
    const client: Client = { ws, authed, goInFlight: false };
    this.clients.add(client);
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
    ws.on('message', (data) => void this.onMessage(client, data.toString()));
    this.send(ws, { type: 'hello', role: authed ? 'operator' : 'viewer', show: this.showInfo(), state: this.snapshot() });
  }

  private async onMessage(c: Client, raw: string): Promise<void> {
    let m: ControlMessage & { ref?: unknown; token?: unknown };
    try {
      m = JSON.parse(raw);
      if (!m || typeof m !== 'object' || !['command', 'curate', 'settings'].includes(m.type)) throw new Error('not a control message');
    } catch {
      this.send(c.ws, { type: 'reply', ref: null, ok: false, message: 'the hub did not understand that message' });
      return;
    }
    const ref = typeof m.ref === 'string' || typeof m.ref === 'number' ? m.ref : null;
    const what = m.type === 'command' ? m.command : m.type === 'curate' ? `${m.decision} line` : 'settings';
    const reply = (ok: boolean, message: string) => this.send(c.ws, { type: 'reply', ref, what, ok, message });
    if (!(c.authed || tokenMatches(this.o.token, m.token))) {
      const message = `${what} refused: ${m.token ? 'the control token is wrong' : 'this is a read-only view; control needs the token (open the address the hub printed, …/?token=…)'}`;
      this.note('warn', 'page', message);
      return reply(false, message);
    }
    // One GO at a time per page, so a double tap is one GO.
    const isGo = m.type === 'command' && m.command === 'go';
    if (isGo && c.goInFlight) return reply(false, 'GO ignored: the previous GO is still in flight');
    if (isGo) c.goInFlight = true;
    try {
      const r = await runControl(this.hub, this.settings, m);
      this.note(r.ok ? 'info' : 'warn', 'page', `${what}: ${r.message}`);
      reply(r.ok, r.message);
      if (m.type === 'settings' || (m.type === 'command' && m.command === 'next-speaker')) this.broadcast({ type: 'settings', settings: this.settingsView() });
    } catch (e) {
      reply(false, `${what} failed: ${(e as Error).message}`);
    } finally {
      if (isGo) c.goInFlight = false;
    }
  }

  // ---- views ------------------------------------------------------------------------------------
  private showInfo() {
    const s = this.hub.o.show;
    return {
      id: s.show,
      title: s.title,
      cast: s.cast.map((c) => ({ id: c.id, name: c.name, node: c.node })),
      scenes: s.scenes.map((sc) => ({
        id: sc.id,
        title: sc.title ?? null,
        cues: sc.cues.map((q) => ({ id: q.id, name: q.name ?? null, kind: q.kind, character: q.character ?? null, text: q.text ?? null, emotion: q.emotion ?? null, continue: q.continue ?? 'none', notes: q.notes ?? null })),
      })),
    };
  }

  private nodeView(n: NodeInfo) {
    return {
      id: n.id, state: n.state, reason: n.reason ?? null, rssBytes: n.rssBytes ?? null,
      hardware: n.birth?.hardware ?? null, bdSeq: n.bdSeq ?? null,
    };
  }

  private showView() {
    const p = this.hub.playback.snapshot();
    return { ...this.hub.showState(), standbyNotes: p.standbyNotes, nextScene: nextScene(this.hub) };
  }

  private settingsView() {
    return { showMode: this.settings.showMode, curator: this.hub.curator.enabled, nextSpeaker: this.hub.nextSpeakerOverride };
  }

  private curateView(c: CurateRequest) {
    return { ...c, remainingMs: Math.max(0, c.expiresAt - Date.now()) };
  }

  private snapshot() {
    const now = Date.now();
    const transcript = this.hub.transcript.slice(-TRANSCRIPT_KEEP);
    // Lines still being spoken, with what is left of them, so a page opened mid-line shows it.
    const speaking = transcript
      .map((l) => ({ line: l, remainingMs: (this.lineSeen.get(l) ?? 0) + l.durationMs - now }))
      .filter((x) => x.remainingMs > 0);
    return {
      nodes: this.hub.registry.all().map((n) => this.nodeView(n)),
      show: this.showView(),
      transcript,
      speaking,
      log: this.log,
      telemetry: Object.fromEntries(this.telemetry),
      latency: Object.fromEntries(this.latency),
      curate: this.hub.curator.pending().map((c) => this.curateView(c)),
      settings: this.settingsView(),
    };
  }

  // ---- plumbing -------------------------------------------------------------------------------
  private note(level: LogEntry['level'], source: string, text: string): void {
    const entry = { t: Date.now(), level, source, text };
    this.log.push(entry);
    if (this.log.length > LOG_KEEP) this.log.splice(0, this.log.length - LOG_KEEP);
    this.broadcast({ type: 'log', entry });
  }

  private send(ws: WebSocket, msg: object): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  private broadcast(msg: object): void {
    if (!this.clients.size) return;
    const data = JSON.stringify(msg);
    for (const c of this.clients) if (c.ws.readyState === WebSocket.OPEN) c.ws.send(data);
  }

  close(): void {
    clearInterval(this.flushTimer);
    for (const f of this.off) f();
    for (const c of this.clients) c.ws.close(1001, 'hub shutting down');
    this.clients.clear();
  }
}
