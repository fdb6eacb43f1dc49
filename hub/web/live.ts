/**
 * The live stage over WebSocket: every page gets a snapshot when it connects, then the hub's
 * events as they happen, and sends its controls back. The server decides a page's role when it
 * connects (its session; see access.ts): an operator acts, a viewer only watches. Every message
 * follows the page protocol (page-protocol.ts), checked on arrival.
 */
import { listen, type HubEvents } from '../hub-events.ts';
import type { IncomingMessage } from 'node:http';
import { WebSocket } from 'ws';
import type { TranscriptLineT, TelemetryT, NodeEventT } from '../../protocol/index.ts';
import type { Hub } from '../hub.ts';
import type { NodeInfo } from '../registry.ts';
import type { Report } from '../playback.ts';
import type { CurateRequest, CurateSettled } from './curator.ts';
import { runControl, nextScene, type StageSettings } from './controls.ts';
import { parseClientMessage } from './page-protocol-check.ts';
import type { ServerMessageT, RoleT, LogEntryT } from './page-protocol.ts';

export type LogEntry = LogEntryT;

const LOG_KEEP = 300;
const TRANSCRIPT_KEEP = 300;
/** Sensors report up to 5 Hz per node; the page needs no more than this. */
const TELEMETRY_FLUSH_MS = 250;

/** Who is on a page: a store identity, "token", "viewer-token" or "read-only-view"; journaled with every control. */
export interface PageUserT { id: string; role: RoleT }

interface Client { ws: WebSocket; role: RoleT; by: PageUserT; goInFlight: boolean }

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

  constructor(private readonly hub: Hub) {
    // The hub's events are typed (hub/hub-events.ts); playback's and the curator's are their own.
    const on = <K extends keyof HubEvents>(ev: K, fn: (...a: HubEvents[K]) => void) => { this.off.push(listen(hub, ev, fn)); };
    const listenTo = (em: NodeJS.EventEmitter, ev: string, fn: (...a: never[]) => void) => {
      em.on(ev, fn as (...a: unknown[]) => void);
      this.off.push(() => em.off(ev, fn as (...a: unknown[]) => void));
    };
    on('node-state', (n: NodeInfo, prev: string) => {
      this.note(n.state === 'lost' || n.state === 'fault' || n.state === 'estopped' ? 'warn' : 'info', `node/${n.id}`, `${prev} → ${n.state}${n.reason ? ` (${n.reason})` : ''}`);
      this.broadcast({ type: 'node', node: this.nodeView(n) });
      // The show's "armed" follows the nodes' states: say it at once, not at the next cue.
      this.broadcast({ type: 'show', show: this.showView() });
    });
    on('birth', (id: string) => { const n = hub.registry.get(id); if (n) this.broadcast({ type: 'node', node: this.nodeView(n) }); });
    on('show-state', () => this.broadcast({ type: 'show', show: this.showView() }));
    on('line', (l: TranscriptLineT) => {
      this.lineSeen.set(l, Date.now());
      this.broadcast({ type: 'line', line: l });
    });
    on('report', (r: Report) => this.note('warn', 'playback', r.message));
    on('node-event', (node: string, e: NodeEventT) => {
      const detail = Object.entries(e.data).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
      if (e.kind !== 'motion') this.note(['estop', 'estop-button', 'fault', 'overheat', 'obstacle', 'watchdog', 'limit', 'arm-refused'].includes(e.kind) ? 'warn' : 'info', `node/${node}`, `${e.kind}${detail ? `: ${detail}` : ''}`);
    });
    on('telemetry', (node: string, t: TelemetryT) => {
      const mine = this.telemetry.get(node) ?? {};
      mine[t.sensor] = { value: t.value, unit: t.unit };
      this.telemetry.set(node, mine);
      this.pendingTelemetry.set(`${node}/${t.sensor}`, { node, sensor: t.sensor, value: t.value, unit: t.unit });
    });
    listenTo(hub.playback, 'ack-latency', ({ node, latencyMs }: { node: string; latencyMs?: number }) => {
      if (latencyMs === undefined) return;
      this.latency.set(node, latencyMs);
      this.broadcast({ type: 'latency', node, ms: latencyMs });
    });
    listenTo(hub.curator, 'curate', (c: CurateRequest) => this.broadcast({ type: 'curate', item: this.curateView(c) }));
    listenTo(hub.curator, 'settled', (s: CurateSettled) => {
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

  /** A new WebSocket from a page whose role the server has decided (see access.ts). */
  attach(ws: WebSocket, by: PageUserT): void {
    const role = by.role;
    const client: Client = { ws, role, by, goInFlight: false };
    this.clients.add(client);
    ws.on('close', () => this.clients.delete(client));
    ws.on('error', () => this.clients.delete(client));
    ws.on('message', (data) => void this.onMessage(client, data.toString()));
    this.send(ws, { type: 'hello', role, show: this.showInfo(), state: this.snapshot() });
  }

  /** Refuses a page that has not logged in: it shows the reason and its log-in form. */
  refuse(ws: WebSocket, message: string): void {
    this.send(ws, { type: 'refused', message });
    ws.close(4401, 'log in first');
  }

  private async onMessage(c: Client, raw: string): Promise<void> {
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      this.send(c.ws, { type: 'reply', ref: null, ok: false, message: `the hub did not understand that message: ${parsed.error}` });
      return;
    }
    const m = parsed.value;
    const ref = m.ref ?? null;
    const what = m.type === 'command' ? m.command : m.type === 'curate' ? `${m.decision} line` : 'settings';
    // Every control from a page is journaled with who sent it, refused ones too (the audit trail).
    const action = m.type === 'command' ? m.command : m.type === 'curate' ? `curate ${m.decision}` : 'settings';
    const args: Record<string, unknown> = m.type === 'command' ? { ...(m.args ?? {}) } : m.type === 'curate' ? { line: m.id } : { ...(m.curator !== undefined ? { curator: m.curator } : {}), ...(m.showMode !== undefined ? { showMode: m.showMode } : {}) };
    const reply = (ok: boolean, message: string) => {
      this.hub.audit({ action, by: c.by, ok, detail: `page: ${message}`, args });
      this.send(c.ws, { type: 'reply', ref, what, ok, message });
    };
    if (c.role !== 'operator') {
      const message = `${what} refused: this is a read-only view; log in with the control token or an operator password to act`;
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
    return { showMode: this.settings.showMode, curator: this.hub.curator.enabled, nextSpeaker: this.hub.nextSpeaker.current };
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

  private send(ws: WebSocket, msg: ServerMessageT): void {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  private broadcast(msg: ServerMessageT): void {
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
