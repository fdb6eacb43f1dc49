/**
 * Motion in 50 Hz frames (20 ms, the usual servo grain) with easing. Motion only computes targets:
 * it has no hardware. Each move borrows a command lease from the safety gate, and the gate clamps
 * (range, speed) and writes every frame, so a cue can never make a servo jump, whatever its
 * duration says. A revoked lease ends its moves; a re-arm never revives them.
 */
import { performance } from 'node:perf_hooks';
import type { ProfileT } from '../firmware-config/profile-schema.ts';
import type { SafetyGate } from './safety.ts';
import type { CommandLease } from './command-lease.ts';

import { minMoveMs, type Easing } from '../firmware-config/motion-limits.ts';

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

export class MotionController {
  private readonly trajectories = new Map<string, Trajectory>();
  private readonly jaw = new Map<string, { angles: number[]; frameMs: number; start: number; done: () => void; lease: CommandLease }>();
  private readonly motorTimers = new Map<string, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | null = null;
  private lastFrame = 0;
  readonly stats: FrameStats = { frames: 0, maxLateMs: 0 };

  constructor(
    private readonly profile: ProfileT,
    private readonly gate: SafetyGate,
    readonly frameMs = 20,
  ) {
    // The gate has already written the safe outputs; what motion was doing is over.
    gate.on('revoked', () => this.stopAll());
    gate.on('motors-stopped', () => this.cancelMotorTimers());
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
    const lease = this.lease();
    if (!lease) return Promise.resolve();
    const moves: Promise<void>[] = [];
    const now = performance.now();
    for (const [id, raw] of Object.entries(targets)) {
      const { angle, clamped } = this.gate.limitServo(id, raw);
      if (clamped) this.gate.reportLimit({ servo: id, asked: raw, applied: angle, rule: 'range' });
      const from = this.gate.servoPosition(id);
      const servo = this.profile.servos!.find((s) => s.id === id)!;
      // The slowest the speed limit allows, with the easing's peak speed counted in.
      const minDuration = minMoveMs(from, angle, servo.maxSpeed, easing);
      const duration = Math.max(durationMs, minDuration);
      this.trajectories.get(id)?.done();
      moves.push(new Promise<void>((done) => this.trajectories.set(id, { from, to: angle, start: now, duration, easing, done, lease })));
    }
    this.ensureRunning();
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

  /** Sets motor duties (the gate clamps to maxDuty, or 0 near an obstacle) for a time, then stops them. */
  driveMotors(duties: Record<string, number>, durationMs?: number): void {
    const lease = this.lease();
    if (!lease) return;
    for (const [id, raw] of Object.entries(duties)) {
      const { duty, clamped } = this.gate.limitMotor(id, raw);
      if (clamped) this.gate.reportLimit({ motor: id, asked: raw, applied: duty, rule: 'maxDuty' });
      clearTimeout(this.motorTimers.get(id));
      lease.writeMotor(id, duty);
      if (durationMs !== undefined) {
        // Stopping through the same lease: if it was revoked meanwhile, the gate has stopped the motor already.
        const t = setTimeout(() => { this.motorTimers.delete(id); lease.writeMotor(id, 0); }, durationMs);
        this.motorTimers.set(id, t);
      }
    }
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
