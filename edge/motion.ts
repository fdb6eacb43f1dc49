/**
 * Motion in 50 Hz frames (20 ms, the usual servo grain) with easing. Every frame goes through the
 * safety gate: the profile's range and speed limits are applied to what is actually written, so
 * a cue can never make a servo jump, whatever its duration says.
 */
import { performance } from 'node:perf_hooks';
import type { ProfileT } from '../firmware-config/profile-schema.ts';
import type { HardwareBackend } from './hardware/types.ts';
import type { SafetyGate } from './safety.ts';

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
  /** Safe-pose moves are allowed while disarmed; everything else needs the arm. */
  safePose: boolean;
}

export interface FrameStats { frames: number; maxLateMs: number }

export class MotionController {
  private readonly position = new Map<string, number>();
  private readonly trajectories = new Map<string, Trajectory>();
  private readonly jaw = new Map<string, { angles: number[]; frameMs: number; start: number; done: () => void }>();
  private readonly motorTimers = new Map<string, NodeJS.Timeout>();
  private timer: NodeJS.Timeout | null = null;
  private lastFrame = 0;
  readonly stats: FrameStats = { frames: 0, maxLateMs: 0 };

  constructor(
    private readonly profile: ProfileT,
    private readonly hardware: HardwareBackend,
    private readonly gate: SafetyGate,
    readonly frameMs = 20,
  ) {
    // Until told otherwise, assume each servo sits at its rest pose.
    for (const s of profile.servos ?? []) this.position.set(s.id, s.rest);
    gate.on('stop-all', () => this.stopAll());
    gate.on('safe-pose', () => this.toRest());
    gate.on('motors-stopped', () => this.stopMotors());
  }

  positions(): Record<string, number> {
    return Object.fromEntries(this.position);
  }

  /** Plans a move; resolves when every servo has arrived (or the move was cancelled). */
  moveServos(targets: Record<string, number>, durationMs = 0, easing: Easing = 'ease-in-out', safePose = false): Promise<void> {
    const moves: Promise<void>[] = [];
    const now = performance.now();
    for (const [id, raw] of Object.entries(targets)) {
      const { angle, clamped } = this.gate.limitServo(id, raw);
      if (clamped) this.gate.reportLimit({ servo: id, asked: raw, applied: angle, rule: 'range' });
      const from = this.position.get(id) ?? angle;
      const servo = this.profile.servos!.find((s) => s.id === id)!;
      // The slowest the speed limit allows, with the easing's peak speed counted in.
      const minDuration = minMoveMs(from, angle, servo.maxSpeed, easing);
      const duration = Math.max(durationMs, minDuration);
      this.trajectories.get(id)?.done();
      moves.push(new Promise<void>((done) => this.trajectories.set(id, { from, to: angle, start: now, duration, easing, done, safePose })));
    }
    this.ensureRunning();
    return Promise.all(moves).then(() => undefined);
  }

  /** Drives the jaw from a speech envelope (0..1 per frame), mapped into the jaw's range. */
  followEnvelope(servoId: string, envelope: { frameMs: number; values: number[] }): Promise<void> {
    const servo = this.profile.servos?.find((s) => s.id === servoId);
    if (!servo) return Promise.resolve();
    const angles = envelope.values.map((v) => servo.rest + (servo.max - servo.rest) * Math.max(0, Math.min(1, v)));
    return new Promise((done) => {
      this.jaw.get(servoId)?.done();
      this.jaw.set(servoId, { angles, frameMs: envelope.frameMs, start: performance.now(), done });
      this.ensureRunning();
    });
  }

  /** Sets motor duties (clamped to maxDuty) for a time, then stops them. */
  driveMotors(duties: Record<string, number>, durationMs?: number): void {
    for (const [id, raw] of Object.entries(duties)) {
      const { duty, clamped } = this.gate.limitMotor(id, raw);
      if (clamped) this.gate.reportLimit({ motor: id, asked: raw, applied: duty, rule: 'maxDuty' });
      clearTimeout(this.motorTimers.get(id));
      this.hardware.writeMotor(id, this.gate.canDrive() ? duty : 0);
      if (durationMs !== undefined) {
        const t = setTimeout(() => this.hardware.writeMotor(id, 0), durationMs);
        this.motorTimers.set(id, t);
      }
    }
  }

  stopMotors(): void {
    for (const t of this.motorTimers.values()) clearTimeout(t);
    this.motorTimers.clear();
    for (const m of this.profile.motors ?? []) this.hardware.writeMotor(m.id, 0);
  }

  /** Safe pose: every servo glides to rest within its limits; motors stop. */
  toRest(): void {
    this.stopMotors();
    this.cancelJaw();
    const rest = Object.fromEntries((this.profile.servos ?? []).map((s) => [s.id, s.rest]));
    void this.moveServos(rest, 0, 'ease-in-out', true);
  }

  /** Cancels every move at once (e-stop): positions hold wherever they are. */
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
    const armed = this.gate.canMove();
    for (const [id, tr] of this.trajectories) {
      if (!armed && !tr.safePose) {
        tr.done();
        this.trajectories.delete(id);
        continue;
      }
      const t = tr.duration <= 0 ? 1 : Math.min(1, (now - tr.start) / tr.duration);
      this.writeLimited(id, tr.from + (tr.to - tr.from) * EASE[tr.easing](t), dt);
      if (t >= 1 && this.position.get(id) === tr.to) {
        tr.done();
        this.trajectories.delete(id);
      }
    }
    for (const [id, j] of this.jaw) {
      const i = Math.floor((now - j.start) / j.frameMs);
      if (!armed || i >= j.angles.length) {
        j.done();
        this.jaw.delete(id);
        if (armed) void this.moveServos({ [id]: this.profile.servos!.find((s) => s.id === id)!.rest }, 100);
        continue;
      }
      if (!this.trajectories.has(id)) this.writeLimited(id, j.angles[i]!, dt);
    }
    if (this.trajectories.size === 0 && this.jaw.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Writes one frame for one servo, never faster than its speed limit, never outside its range. */
  private writeLimited(id: string, desired: number, dtMs: number): void {
    const prev = this.position.get(id) ?? desired;
    // A small allowance over one frame keeps timer jitter from stalling a move at full speed.
    const maxStep = this.gate.maxServoStep(id, Math.min(dtMs, this.frameMs * 2)) + 1e-9;
    const step = Math.max(-maxStep, Math.min(maxStep, desired - prev));
    const { angle } = this.gate.limitServo(id, prev + step);
    this.position.set(id, angle);
    this.hardware.writeServo(id, angle);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopAll();
  }
}
