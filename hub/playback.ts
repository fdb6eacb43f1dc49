/**
 * Cue playback with the timing of theatre cue software: a playhead on the standby cue, GO with a
 * minimum interval, pre-wait, post-wait, auto-continue (the next cue fires postWait after this
 * one's action starts) and auto-follow (the next cue fires postWait after this one completes).
 * Cues go to nodes ahead of time with a show-clock start time, and their acks are tracked: a
 * missing or late ack is reported, and a cue for a lost node is skipped so the others carry on.
 */
import { withReading } from './readings.ts';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { monotonicFactory } from 'ulid';
import type { CueT, CueAckT } from '../protocol/index.ts';
import type { ShowT, SceneT, ShowCueT } from './show/schema.ts';
import type { NodeRegistry } from './registry.ts';

const newUlid = monotonicFactory();
export const newCueId = (): string => newUlid().toLowerCase();

export interface ShowClock { showNow(): number }

export interface PlaybackDeps {
  show: ShowT;
  clock: ShowClock;
  registry: NodeRegistry;
  sendCue(node: string, cue: CueT): void;
  stopNode(node: string, reason: string): void;
  /**
   * Called before any scheduled continuation runs: the hub checks here whether it was itself
   * stalled (and pauses if so), so a timer that expired during a freeze cannot fire a cue first.
   */
  beforeTimer?: () => void;
  /** Runs cues the hub does not send as one wire cue (improv, council: the ensemble); aborted on stop. */
  runExternal?: ExternalCueRunner;
}

export type ExternalCueRunner = (cue: ShowCueT, scene: string, signal: AbortSignal) => Promise<{ outcome: Outcome; reason?: string }>;

export type Outcome = 'done' | 'failed' | 'rejected' | 'skipped' | 'stopped' | 'timeout';

export interface Report {
  kind: 'cue-skipped' | 'ack-missing' | 'ack-late' | 'done-missing' | 'cue-rejected' | 'cue-failed';
  message: string;
  scene: string;
  cue: string;
  node?: string;
  data?: Record<string, unknown>;
}

interface Running {
  index: number;
  cue: ShowCueT;
  wireId?: string;
  node?: string;
  sentAt?: number;
  accepted: boolean;
  timers: Set<NodeJS.Timeout>;
  generation: number;
  abort?: AbortController;
}

export type Result = { ok: true; message: string } | { ok: false; message: string };

export class Playback extends EventEmitter {
  private scene: SceneT | null = null;
  private playhead = 0;
  private status: 'idle' | 'running' | 'stopped' | 'finished' = 'idle';
  private readonly running = new Map<string, Running>(); // by show cue id
  private readonly byWireId = new Map<string, Running>();
  /** Cues sent with sendTracked (the ensemble's), by wire id. */
  private readonly tracked = new Map<string, { node: string; onAck: (ack: CueAckT) => void }>();
  private readonly pending = new Set<NodeJS.Timeout>(); // continuations not yet fired
  private generation = 0;
  private seq = 0;
  private lastGo = -Infinity;
  private readonly settings: Required<NonNullable<ShowT['settings']>>;
  private readonly nodeOf = new Map<string, string>();

  constructor(private readonly d: PlaybackDeps) {
    super();
    const s = d.show.settings ?? {};
    this.settings = {
      minGoInterval: s.minGoInterval ?? 0.5,
      leadTime: s.leadTime ?? 0.1,
      lateTolerance: s.lateTolerance ?? 0.5,
      ackTimeout: s.ackTimeout ?? 1,
    };
    for (const c of d.show.cast) this.nodeOf.set(c.id, c.node);
  }

  // ---- what the operator sees ---------------------------------------------------
  snapshot(): { status: Playback['status']; scene: string | null; standby: string | null; standbyNotes: string | null; running: string[] } {
    const standby = this.scene?.cues[this.playhead];
    return {
      status: this.status,
      scene: this.scene?.id ?? null,
      standby: standby?.id ?? null,
      standbyNotes: standby?.notes ?? null,
      running: [...this.running.keys()],
    };
  }

  /** Where playback stands, as the journal records it (a restarted hub restores from it). */
  position(): { scene: string | null; playhead: number; standby: string | null; status: Playback['status']; running: string[] } {
    const s = this.snapshot();
    return { scene: s.scene, playhead: this.playhead, standby: s.standby, status: s.status, running: s.running };
  }

  /**
   * Takes back a journaled position after a hub restart: same scene and playhead, paused
   * (status stopped), nothing running and nothing scheduled. The operator's GO resumes at the
   * standby cue. Returns a refusal if the show no longer has that scene.
   */
  restore(p: { scene: string | null; playhead: number; status?: string }): Result {
    if (!p.scene) return { ok: true, message: 'no scene was loaded' };
    const scene = this.d.show.scenes.find((s) => s.id === p.scene);
    if (!scene) return { ok: false, message: `scene "${p.scene}" of the journal is not in the show any more; nothing restored` };
    this.halt('restored');
    this.scene = scene;
    this.playhead = Math.min(Math.max(0, p.playhead), scene.cues.length);
    this.status = p.status === 'finished' ? 'finished' : this.playhead === 0 ? 'idle' : 'stopped';
    this.lastGo = -Infinity;
    this.changed();
    const standby = scene.cues[this.playhead]?.id;
    return { ok: true, message: standby ? `scene ${scene.id} paused at cue ${standby}` : `scene ${scene.id} at its end` };
  }

  private changed(): void {
    this.emit('state', this.snapshot());
  }

  private report(r: Report): void {
    this.emit('report', r);
  }

  // ---- operator actions -----------------------------------------------------------
  startScene(id: string): Result {
    const scene = this.d.show.scenes.find((s) => s.id === id);
    if (!scene) return { ok: false, message: `no scene "${id}" in show ${this.d.show.show} (scenes: ${this.d.show.scenes.map((s) => s.id).join(', ')})` };
    if (this.running.size || this.pending.size) this.halt('a new scene started');
    this.scene = scene;
    this.playhead = 0;
    this.status = 'idle';
    this.lastGo = -Infinity;
    const r = this.go();
    return r.ok ? { ok: true, message: `scene ${id} started (${scene.cues.length} cues)` } : r;
  }

  go(): Result {
    if (!this.scene) return { ok: false, message: 'no scene is loaded: start one with console/scene/start' };
    const now = performance.now();
    const since = (now - this.lastGo) / 1000;
    if (since < this.settings.minGoInterval) {
      return { ok: false, message: `GO ignored: ${since.toFixed(2)} s after the last GO (the minimum is ${this.settings.minGoInterval} s)` };
    }
    if (this.playhead >= this.scene.cues.length) return { ok: false, message: `GO ignored: scene ${this.scene.id} has no more cues` };
    this.lastGo = now;
    const index = this.playhead;
    this.fire(index);
    return { ok: true, message: `GO: cue ${this.scene.cues[index]!.id}` };
  }

  stop(reason = 'stopped by the operator'): Result {
    const n = this.running.size;
    this.halt(reason);
    this.status = 'stopped';
    this.changed();
    return { ok: true, message: n ? `stopped ${n} running cue(s); standby stays on ${this.snapshot().standby ?? '(end)'}` : 'nothing was running' };
  }

  private halt(reason: string): void {
    this.generation++;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    const nodes = new Set<string>();
    for (const r of this.running.values()) {
      for (const t of r.timers) clearTimeout(t);
      r.abort?.abort(reason);
      if (r.node) nodes.add(r.node);
      this.emit('outcome', { scene: this.scene?.id, cue: r.cue.id, node: r.node, outcome: 'stopped', reason });
    }
    this.running.clear();
    this.byWireId.clear();
    for (const node of nodes) this.d.stopNode(node, reason);
  }

  // ---- firing -------------------------------------------------------------------------
  private later(ms: number, fn: () => void, set: Set<NodeJS.Timeout>): void {
    const gen = this.generation;
    const t = setTimeout(() => {
      set.delete(t);
      if (gen === this.generation) this.d.beforeTimer?.();
      if (gen === this.generation) fn();
    }, ms);
    set.add(t);
  }

  /** An auto-continue or auto-follow reaching the next cue: each cue fires once, so not if a GO already fired it. */
  private follow(index: number): void {
    if (this.playhead > index) return this.maybeFinished();
    this.fire(index);
  }

  private fire(index: number): void {
    const scene = this.scene!;
    const cue = scene.cues[index];
    if (!cue) return this.maybeFinished();
    this.playhead = Math.max(this.playhead, index + 1);
    const r: Running = { index, cue, accepted: false, timers: new Set(), generation: this.generation };
    this.running.set(cue.id, r);
    this.status = 'running';
    this.changed();
    const pre = (cue.preWait ?? 0) * 1000;
    if (pre > 0) this.later(pre, () => this.action(r), r.timers);
    else this.action(r);
  }

  private action(r: Running): void {
    const { cue } = r;
    if ((cue.continue ?? 'none') === 'auto-continue') {
      this.later((cue.postWait ?? 0) * 1000, () => this.follow(r.index + 1), this.pending);
    }
    if (cue.kind === 'wait') {
      this.later((cue.duration ?? 0) * 1000, () => this.complete(r, 'done'), r.timers);
      return;
    }
    if (cue.kind === 'improv' || cue.kind === 'council') return this.external(r);
    const node = this.nodeOf.get(cue.character!)!;
    r.node = node;
    if (!this.d.registry.isOnline(node)) {
      const st = this.d.registry.get(node)?.state ?? 'unknown';
      this.report({ kind: 'cue-skipped', message: `cue ${cue.id} skipped: node ${node} (${cue.character}) is ${st === 'unknown' ? 'not connected' : st}`, scene: this.scene!.id, cue: cue.id, node });
      this.complete(r, 'skipped', `node ${node} is ${st}`);
      return;
    }
    const wire = this.toWire(cue);
    r.wireId = wire.id;
    r.sentAt = performance.now();
    this.byWireId.set(wire.id, r);
    this.d.sendCue(node, wire);
    this.later(this.settings.ackTimeout * 1000, () => {
      if (r.accepted) return;
      this.report({ kind: 'ack-missing', message: `cue ${cue.id}: node ${node} did not accept it within ${this.settings.ackTimeout} s`, scene: this.scene!.id, cue: cue.id, node });
      this.complete(r, 'timeout', 'no ack');
    }, r.timers);
  }

  private external(r: Running): void {
    const { cue } = r;
    const scene = this.scene!.id;
    if (!this.d.runExternal) {
      this.report({ kind: 'cue-skipped', message: `cue ${cue.id} skipped: no ensemble is attached to perform ${cue.kind} cues`, scene, cue: cue.id });
      return this.complete(r, 'skipped', 'no ensemble');
    }
    r.abort = new AbortController();
    this.d.runExternal(cue, scene, r.abort.signal).then(
      (res) => this.complete(r, res.outcome, res.reason),
      (e: Error) => {
        if (r.abort!.signal.aborted) return;
        this.report({ kind: 'cue-failed', message: `cue ${cue.id} (${cue.kind}) failed: ${e.message}`, scene, cue: cue.id });
        this.complete(r, 'failed', e.message);
      },
    );
  }

  // ---- the one cue factory and ack tracker (show cues here; the ensemble's turns via sendTracked) ----

  /** Stamps a wire cue: id, sequence, start time (now + lead time) and deadline (+ late tolerance). */
  makeCue(scene: string, body: Pick<CueT, 'kind' | 'params'>): CueT {
    const at = this.d.clock.showNow() + this.settings.leadTime * 1000;
    return { v: 1, id: newCueId(), scene, seq: this.seq++, at, deadline: at + this.settings.lateTolerance * 1000, ts: Date.now(), ...body } as CueT;
  }

  /**
   * Sends a cue that is not a show cue (an improvised line, a gesture) and routes its acks to
   * `onAck` until untrack(id): the ensemble's stage performs through here, so every wire cue
   * comes from one factory and every ack goes through one tracker.
   */
  sendTracked(node: string, scene: string, body: Pick<CueT, 'kind' | 'params'>, onAck?: (ack: CueAckT) => void): CueT {
    const cue = this.makeCue(scene, body);
    if (onAck) this.tracked.set(cue.id, { node, onAck });
    this.d.sendCue(node, cue);
    return cue;
  }

  untrack(cueId: string): void {
    this.tracked.delete(cueId);
  }

  /** Lead time and late tolerance in ms, as cues are stamped with them. */
  get timing(): { leadMs: number; lateMs: number } {
    return { leadMs: this.settings.leadTime * 1000, lateMs: this.settings.lateTolerance * 1000 };
  }

  private toWire(c: ShowCueT): CueT {
    const { kind: _kind, params: _params, ...base } = this.makeCue(this.scene!.id, { kind: 'wait', params: { durationMs: 0 } });
    const ms = (s?: number) => Math.round((s ?? 0) * 1000);
    const character = this.d.show.cast.find((x) => x.id === c.character);
    switch (c.kind) {
      case 'line': return { ...base, kind: 'line', params: withReading({ character: c.character!, text: c.text!, ...(c.emotion ? { emotion: c.emotion } : {}), ...(c.intensity !== undefined ? { intensity: c.intensity } : {}), ...(character?.language ? { language: character.language } : {}) }) };
      case 'motion': return { ...base, kind: 'motion', params: { ...(c.servos ? { servos: c.servos } : {}), ...(c.motors ? { motors: c.motors } : {}), durationMs: ms(c.duration), ...(c.easing ? { easing: c.easing } : {}) } };
      case 'light': return { ...base, kind: 'light', params: { led: c.led!, ...(c.color ? { color: c.color } : {}), brightness: c.brightness!, fadeMs: ms(c.duration) } };
      case 'sound': return { ...base, kind: 'sound', params: { name: c.sound!, durationMs: ms(c.duration) } };
      case 'gesture': return { ...base, kind: 'gesture', params: { name: c.gesture! } };
      case 'wait': return { ...base, kind: 'wait', params: { durationMs: ms(c.duration) } };
      default: throw new Error(`a ${c.kind} cue has no wire form`);
    }
  }

  /** An ack from a node. Acks for cues no longer running (stopped, or repeats) are ignored. */
  onAck(node: string, ack: CueAckT): void {
    const t = this.tracked.get(ack.cue);
    if (t) {
      if (t.node === node) t.onAck(ack);
      return;
    }
    const r = this.byWireId.get(ack.cue);
    if (!r || r.node !== node) return;
    const latencyMs = r.sentAt !== undefined ? performance.now() - r.sentAt : undefined;
    switch (ack.status) {
      case 'accepted':
        r.accepted = true;
        this.emit('ack-latency', { node, latencyMs });
        if (latencyMs !== undefined && latencyMs > this.settings.leadTime * 1000) {
          this.report({ kind: 'ack-late', message: `cue ${r.cue.id}: node ${node} accepted it after ${latencyMs.toFixed(0)} ms, later than the ${this.settings.leadTime * 1000} ms lead time`, scene: this.scene!.id, cue: r.cue.id, node, data: { latencyMs } });
        }
        return;
      case 'started': {
        r.accepted = true;
        // The node says how long it will take; allow generous slack before calling the done missing.
        const expect = (ack.durationMs ?? 0) + 3000;
        this.later(expect, () => {
          this.report({ kind: 'done-missing', message: `cue ${r.cue.id}: node ${node} did not report it done within ${(expect / 1000).toFixed(1)} s`, scene: this.scene!.id, cue: r.cue.id, node });
          this.complete(r, 'timeout', 'no done ack');
        }, r.timers);
        return;
      }
      case 'done':
        return this.complete(r, 'done');
      case 'rejected':
        this.report({ kind: 'cue-rejected', message: `cue ${r.cue.id} rejected by node ${node}: ${ack.reason ?? 'no reason given'}`, scene: this.scene!.id, cue: r.cue.id, node });
        return this.complete(r, 'rejected', ack.reason);
      case 'failed':
        this.report({ kind: 'cue-failed', message: `cue ${r.cue.id} failed on node ${node}: ${ack.reason ?? 'no reason given'}`, scene: this.scene!.id, cue: r.cue.id, node });
        return this.complete(r, 'failed', ack.reason);
    }
  }

  /** A node was lost: its running cues end now, so the scene carries on without it. */
  onNodeLost(node: string): void {
    for (const r of [...this.running.values()]) {
      if (r.node === node) {
        this.report({ kind: 'cue-skipped', message: `cue ${r.cue.id} abandoned: node ${node} was lost`, scene: this.scene!.id, cue: r.cue.id, node });
        this.complete(r, 'failed', `node ${node} lost`);
      }
    }
  }

  private complete(r: Running, outcome: Outcome, reason?: string): void {
    if (this.running.get(r.cue.id) !== r) return;
    for (const t of r.timers) clearTimeout(t);
    this.running.delete(r.cue.id);
    if (r.wireId) this.byWireId.delete(r.wireId);
    this.emit('outcome', { scene: this.scene!.id, cue: r.cue.id, node: r.node, outcome, reason });
    if ((r.cue.continue ?? 'none') === 'auto-follow') {
      this.later((r.cue.postWait ?? 0) * 1000, () => this.follow(r.index + 1), this.pending);
    }
    this.changed();
    this.maybeFinished();
  }

  private maybeFinished(): void {
    if (!this.scene || this.running.size || this.pending.size) return;
    if (this.status !== 'running') return;
    if (this.playhead >= this.scene.cues.length) {
      this.status = 'finished';
      this.changed();
      this.emit('scene-finished', this.scene.id);
    }
  }

  close(): void {
    this.halt('hub shutting down');
  }
}
