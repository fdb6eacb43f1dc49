/**
 * Motion in 50 Hz frames (20 ms, the usual servo grain) with easing. Motion only computes targets:
 * it has no hardware. Each move borrows a command lease from the safety gate, and the gate clamps
 * (range, speed) and writes every frame, so a cue can never make a servo jump, whatever its
 * duration says. A revoked lease ends its moves; a re-arm never revives them.
 *
 * Motion plans with the profile's limits itself (the same ActuatorLimits the gate enforces with)
 * and reports what it had to clamp; it asks the gate for nothing but leases, so a cue goes one way
 * down: executor → motion → gate → hardware.
 */
import { performance } from 'node:perf_hooks';
import type { ProfileT } from '../firmware-config/profile-schema.ts';
import type { CueT } from '../protocol/index.ts';
import type { SafetyGate } from './safety.ts';
import type { CommandLease } from './command-lease.ts';
import { setTimeout as delay } from 'node:timers/promises';
import { ActuatorLimits, type MotionStep } from './actuator-limits.ts';
import type { SafetyEventData } from './safety-events.ts';

import type { Easing } from '../firmware-config/motion-limits.ts';

export type { Easing };
const EASE: Record<Easing, (t: number) => number> = {
  linear: (t) => t,
  // smoothstep: its peak speed is 1.5x the average, which the planner accounts for.
  'ease-in-out': (t) => t * t * (3 - 2 * t),
};

interface Trajectory {
  from: number;
  to: number;
  start: number;
  duration: number;
  easing: Easing;
  done: () => void;
  /** The lease this move writes through; dead after a revoke. */
  lease: CommandLease;
}

export interface FrameStats { frames: number; maxLateMs: number }

type MovingCue = Extract<CueT, { kind: 'motion' | 'gesture' }>;

export class MotionController {
  private readonly trajectories = new Map<string, Trajectory>();
  private readonly jaw = new Map<string, { angles: number[]; frameMs: number; start: number; done: () => void; lease: CommandLease }>();
  private readonly motorTimers = new Map<string, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | null = null;
  private lastFrame = 0;
  readonly stats: FrameStats = { frames: 0, maxLateMs: 0 };

  private readonly limits: ActuatorLimits;

  constructor(
    private readonly profile: ProfileT,
    private readonly gate: SafetyGate,
    readonly frameMs = 20,
    /** Told when a cue asked for more than the profile allows (the node publishes it as a `limit` event). */
    private readonly onLimit: (data: SafetyEventData['limit']) => void = () => undefined,
  ) {
    this.limits = new ActuatorLimits(profile);
    // The gate has already written the safe outputs; what motion was doing is over.
    gate.on('revoked', () => this.stopAll());
    gate.on('motors-stopped', () => this.cancelMotorTimers());
  }

  /**
   * Performs a motion or gesture cue: its frames one after the other, each at least as long as it
   * says (and as the speed limits need). `started` gets the planned duration first. Resolves when
   * done or aborted; throws when the node stops being able to move between frames.
   */
  async performCue(cue: MovingCue, signal: AbortSignal, started: (durationMs: number) => void): Promise<void> {
    const steps: MotionStep[] = cue.kind === 'motion'
      ? [{ ms: cue.params.durationMs ?? 0, ...(cue.params.servos ? { servos: cue.params.servos } : {}), ...(cue.params.motors ? { motors: cue.params.motors } : {}), easing: cue.params.easing ?? 'ease-in-out' }]
      : (this.profile.gestures?.[cue.params.name] ?? []);
    const label = cue.kind === 'gesture' ? `gesture ${cue.params.name}` : 'motion';
    started(steps.reduce((a, f) => a + f.ms, 0));
    for (const step of steps) {
      if (signal.aborted) return;
      if (!this.gate.canMove()) throw new Error(`${label} cut short: the node is ${this.gate.state}`);
      // A cue's motors run for its duration (a gesture has none); an abort ends the wait, never throws.
      await Promise.all([this.play(step, step.ms || undefined), delay(step.ms, undefined, { signal }).catch(() => undefined)]);
    }
  }

  /** Where each servo was last written (by anyone: motion, or the gate's safe pose). */
  positions(): Record<string, number> {
    return Object.fromEntries((this.profile.servos ?? []).map((s) => [s.id, this.gate.servoPosition(s.id)]));
  }

  /** A lease for this move, or null when the gate is inactive (then nothing moves). */
  private lease(): CommandLease | null {
    return this.gate.acquire('motion');
  }

  /** Plans a move; resolves when every servo has arrived (or the move was cancelled or refused). */
  moveServos(targets: Record<string, number>, durationMs = 0, easing: Easing = 'ease-in-out'): Promise<void> {
    return this.play({ servos: targets, ms: durationMs, easing });
  }

  /** Sets motor duties (the gate clamps to maxDuty, or 0 near an obstacle) for a time, then stops them. */
  driveMotors(duties: Record<string, number>, durationMs?: number): void {
    void this.play({ motors: duties, ms: 0 }, durationMs);
  }

  /**
   * Starts one step under a fresh lease: motors at their duties (stopped again after motorsForMs,
   * if given), servos on their trajectories. The plan (range, speed, duty) is the profile's limits';
   * the gate limits every write again. Resolves when every servo has arrived, or was cancelled.
   */
  private play(step: MotionStep, motorsForMs?: number): Promise<void> {
    const lease = this.lease();
    if (!lease) return Promise.resolve();
    const plan = this.limits.plan(step, (id) => this.gate.servoPosition(id));
    for (const c of plan.clamped) this.onLimit(c);
    for (const { id, duty } of plan.motors) {
      clearTimeout(this.motorTimers.get(id));
      lease.writeMotor(id, duty);
      if (motorsForMs !== undefined) {
        // Stopping through the same lease: if it was revoked meanwhile, the gate has stopped the motor already.
        const t = setTimeout(() => { this.motorTimers.delete(id); lease.writeMotor(id, 0); }, motorsForMs);
        this.motorTimers.set(id, t);
      }
    }
    const now = performance.now();
    const moves = plan.servos.map(({ id, from, to, duration, easing }) => {
      this.trajectories.get(id)?.done();
      return new Promise<void>((done) => this.trajectories.set(id, { from, to, start: now, duration, easing, done, lease }));
    });
    if (moves.length) this.ensureRunning();
    return Promise.all(moves).then(() => undefined);
  }

  /** Drives the jaw from a speech envelope (0..1 per frame), mapped into the jaw's range. */
  followEnvelope(servoId: string, envelope: { frameMs: number; values: number[] }): Promise<void> {
    const servo = this.profile.servos?.find((s) => s.id === servoId);
    const lease = this.lease();
    if (!servo || !lease) return Promise.resolve();
    const angles = envelope.values.map((v) => servo.rest + (servo.max - servo.rest) * Math.max(0, Math.min(1, v)));
    return new Promise((done) => {
      this.jaw.get(servoId)?.done();
      this.jaw.set(servoId, { angles, frameMs: envelope.frameMs, start: performance.now(), done, lease });
      this.ensureRunning();
    });
  }

  private cancelMotorTimers(): void {
    for (const t of this.motorTimers.values()) clearTimeout(t);
    this.motorTimers.clear();
  }

  /** Stops the motors this controller drives (the operator's stop; the gate stops them itself on any revoke). */
  stopMotors(): void {
    this.cancelMotorTimers();
    const lease = this.lease();
    if (!lease) return;
    for (const m of this.profile.motors ?? []) lease.writeMotor(m.id, 0);
  }

  /** Cancels every move at once: positions hold wherever they are. */
  stopAll(): void {
    for (const t of this.trajectories.values()) t.done();
    this.trajectories.clear();
    this.cancelJaw();
    this.stopMotors();
  }

  private cancelJaw(): void {
    for (const j of this.jaw.values()) j.done();
    this.jaw.clear();
  }

  private ensureRunning(): void {
    if (this.timer) return;
    this.lastFrame = performance.now();
    this.timer = setInterval(() => this.frame(), this.frameMs);
  }

  private frame(): void {
    const now = performance.now();
    const dt = now - this.lastFrame;
    this.lastFrame = now;
    this.stats.frames++;
    this.stats.maxLateMs = Math.max(this.stats.maxLateMs, dt - this.frameMs);
    for (const [id, tr] of this.trajectories) {
      const t = tr.duration <= 0 ? 1 : Math.min(1, (now - tr.start) / tr.duration);
      const written = tr.lease.writeServo(id, tr.from + (tr.to - tr.from) * EASE[tr.easing](t));
      if (written === null || (t >= 1 && written === tr.to)) {
        tr.done();
        this.trajectories.delete(id);
      }
    }
    for (const [id, j] of this.jaw) {
      const i = Math.floor((now - j.start) / j.frameMs);
      if (!j.lease.alive || i >= j.angles.length) {
        j.done();
        this.jaw.delete(id);
        // The line is over: close the mouth (through a fresh lease, so only while still armed).
        if (j.lease.alive) void this.moveServos({ [id]: this.profile.servos!.find((s) => s.id === id)!.rest }, 100);
        continue;
      }
      if (!this.trajectories.has(id) && j.lease.writeServo(id, j.angles[i]!) === null) {
        j.done();
        this.jaw.delete(id);
      }
    }
    if (this.trajectories.size === 0 && this.jaw.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopAll();
  }
}
