/**
 * Runs the cues a node receives: drops repeats (QoS 1 may deliver twice), checks each cue against
 * the node's capabilities and the safety gate, waits for its show-clock start time, performs it,
 * and acks every step (accepted, rejected, started, done, failed).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { LineParts } from './line-parts.ts';
import { PartOrder } from './part-order.ts';
import type { CueT, CueAckStatusT, TranscriptLineT } from '../protocol/index.ts';
import type { ProfileT } from '../firmware-config/profile-schema.ts';
import type { SpeechEngine } from './voice/types.ts';
import type { SafetyGate } from './safety.ts';
import type { MotionController } from './motion.ts';
import type { ShowClock } from './show-clock.ts';
import { performLine } from './line-performer.ts';
import { performLight } from './light-performer.ts';
import { CUT_CAUSES } from './safety-events.ts';

/** Cues that write to the hardware (through a lease), and so need the node armed. */
const GATED_KINDS: ReadonlySet<CueT['kind']> = new Set(['motion', 'gesture', 'light']);

export interface CueSink {
  ack(cue: string, status: CueAckStatusT, extra?: { reason?: string; durationMs?: number }): void;
  transcript(line: Omit<TranscriptLineT, 'v' | 'ts' | 'node'>): void;
}

interface Running { cue: CueT; abort: AbortController }

/** Remembers recent cue ids; ULIDs sort by time, so the oldest are dropped first. */
class SeenIds {
  private readonly ids = new Set<string>();
  constructor(private readonly cap = 10000) {}
  /** True the first time an id is seen. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.cap) this.ids.delete(this.ids.values().next().value!);
    return true;
  }
}

export class CueExecutor {
  private readonly seen = new SeenIds();
  private readonly running = new Map<string, Running>();
  private readonly scheduled = new Map<string, NodeJS.Timeout>();
  private readonly kinds = new Map<string, CueT['kind']>();
  /** Streamed lines: spoken part by part, journaled once (edge/line-parts.ts). */
  private readonly lineParts = new LineParts((line) => this.deps.sink.transcript(line));
  /** Streamed lines: each part spoken when the part before it ends (edge/part-order.ts). */
  private readonly partOrder = new PartOrder();
  readonly duplicatesDropped = { count: 0 };

  constructor(
    private readonly deps: {
      profile: ProfileT;
      voice: SpeechEngine;
      gate: SafetyGate;
      motion: MotionController;
      clock: ShowClock;
      sink: CueSink;
      character?: string;
      /** A line that missed its deadline: the node may cover it (an ad-lib); true if it will. */
      onLateLine?: (cue: CueT) => boolean;
    },
  ) {
    // A cut (e-stop, fault) ends every cue; a disarm or the watchdog ends the cues that move or
    // light something (their leases are dead), while a line being spoken goes on: a voice does not move.
    deps.gate.on('revoked', (cause, reason) => {
      if (CUT_CAUSES.has(cause)) this.stopAll(reason);
      else this.stopGated(`${cause}: ${reason}`);
    });
  }

  get runningCount(): number {
    return this.running.size + this.scheduled.size;
  }

  /** Is a line being spoken now (an ad-lib must not talk over it)? */
  get speaking(): boolean {
    return [...this.running.values()].some((r) => r.cue.kind === 'line');
  }

  /** Why a cue cannot run on this node, or null if it can (before its start time). */
  private refuse(cue: CueT): string | null {
    const { gate, profile } = this.deps;
    const state = gate.state;
    if (state === 'estopped' || state === 'fault') return `node is ${state} (${gate.reason})`;
    if (GATED_KINDS.has(cue.kind) && state !== 'armed') return `node is not armed (state ${state}): nothing moves until the show is armed`;
    if (cue.kind === 'motion') {
      for (const id of Object.keys(cue.params.servos ?? {})) {
        if (!profile.servos?.some((s) => s.id === id)) return `no servo "${id}" on this node (has: ${(profile.servos ?? []).map((s) => s.id).join(', ') || 'none'})`;
      }
      for (const id of Object.keys(cue.params.motors ?? {})) {
        if (!profile.motors?.some((m) => m.id === id)) return `no motor "${id}" on this node (has: ${(profile.motors ?? []).map((m) => m.id).join(', ') || 'none'})`;
      }
    }
    if (cue.kind === 'gesture' && !profile.gestures?.[cue.params.name]) {
      return `no gesture "${cue.params.name}" on this node (has: ${Object.keys(profile.gestures ?? {}).join(', ') || 'none'})`;
    }
    if (cue.kind === 'light' && !profile.leds?.some((l) => l.id === cue.params.led)) return `no LED "${cue.params.led}" on this node`;
    if (!this.deps.clock.synced) return 'no show clock yet (no hub heartbeat heard)';
    return null;
  }

  /** Handles one received cue. */
  receive(cue: CueT): void {
    if (!this.seen.add(cue.id)) {
      this.duplicatesDropped.count++;
      return;
    }
    const { sink, clock } = this.deps;
    const refusal = this.refuse(cue);
    if (refusal) return sink.ack(cue.id, 'rejected', { reason: refusal });
    const now = clock.showNow();
    if (now > cue.deadline) {
      const covered = cue.kind === 'line' && this.deps.onLateLine?.(cue) === true;
      return sink.ack(cue.id, 'rejected', { reason: `late: arrived ${Math.round(now - cue.deadline)} ms after its deadline${covered ? '; the node covers with an ad-lib' : ''}` });
    }
    sink.ack(cue.id, 'accepted');
    const delay = Math.max(0, cue.at - now);
    this.kinds.set(cue.id, cue.kind);
    const t = setTimeout(() => {
      this.scheduled.delete(cue.id);
      this.kinds.delete(cue.id);
      void this.start(cue);
    }, delay);
    this.scheduled.set(cue.id, t);
  }

  private async start(cue: CueT): Promise<void> {
    const { sink } = this.deps;
    const refusal = this.refuse(cue);
    if (refusal) return sink.ack(cue.id, 'failed', { reason: refusal });
    const abort = new AbortController();
    this.running.set(cue.id, { cue, abort });
    try {
      await this.perform(cue, abort.signal);
      if (abort.signal.aborted) sink.ack(cue.id, 'failed', { reason: String(abort.signal.reason ?? 'stopped') });
      else sink.ack(cue.id, 'done');
    } catch (e) {
      sink.ack(cue.id, 'failed', { reason: abort.signal.aborted ? String(abort.signal.reason ?? 'stopped') : (e as Error).message });
    } finally {
      this.running.delete(cue.id);
    }
  }

  /** One performer per kind; each goes down to the gate on its own path and never comes back here. */
  private async perform(cue: CueT, signal: AbortSignal): Promise<void> {
    const { sink, motion, gate } = this.deps;
    const started = (durationMs: number) => sink.ack(cue.id, 'started', { durationMs });
    switch (cue.kind) {
      case 'line': return performLine(cue, { ...this.deps, lineParts: this.lineParts, partOrder: this.partOrder }, signal, started);
      case 'motion':
      case 'gesture': return motion.performCue(cue, signal, started);
      case 'light': return performLight(cue, gate, signal, started);
      case 'sound':
      case 'wait': {
        started(cue.params.durationMs);
        await delay(cue.params.durationMs, undefined, { signal }).catch(() => undefined);
        return;
      }
    }
  }

  /** Ends every scheduled and running cue (stop command, e-stop, fault). */
  stopAll(reason: string): void {
    for (const [id, t] of this.scheduled) {
      clearTimeout(t);
      this.deps.sink.ack(id, 'failed', { reason });
    }
    this.scheduled.clear();
    this.kinds.clear();
    for (const r of this.running.values()) r.abort.abort(reason);
  }

  /** Ends the scheduled and running cues that need the arm (their leases were revoked). */
  private stopGated(reason: string): void {
    for (const [id, t] of this.scheduled) {
      if (!GATED_KINDS.has(this.kinds.get(id)!)) continue;
      clearTimeout(t);
      this.scheduled.delete(id);
      this.kinds.delete(id);
      this.deps.sink.ack(id, 'failed', { reason });
    }
    for (const r of this.running.values()) if (GATED_KINDS.has(r.cue.kind)) r.abort.abort(reason);
  }
}
