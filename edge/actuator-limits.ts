/**
 * The profile's actuator limits as numbers in, numbers out: servo range and speed, motor duty, LED
 * levels. The safety gate applies them to every value it writes; motion uses them to plan.
 */
import type { ProfileT, ServoT, MotorT } from '../firmware-config/profile-schema.ts';
import { minMoveMs, type Easing } from '../firmware-config/motion-limits.ts';
import type { Rgb } from './hardware/types.ts';
import type { SafetyEventData } from './safety-events.ts';

/** One step of a motion: servo targets, motor duties, how long at least, and its easing. */
export interface MotionStep {
  servos?: Record<string, number>;
  motors?: Record<string, number>;
  ms: number;
  easing?: Easing;
}

/** A step inside the limits: each servo's move (range-clamped, slow enough), each motor's duty, and what was clamped. */
export interface PlannedStep {
  servos: { id: string; from: number; to: number; duration: number; easing: Easing }[];
  motors: { id: string; duty: number }[];
  clamped: SafetyEventData['limit'][];
}

export class ActuatorLimits {
  readonly servos = new Map<string, ServoT>();
  readonly motors = new Map<string, MotorT>();

  constructor(profile: ProfileT) {
    for (const s of profile.servos ?? []) this.servos.set(s.id, s);
    for (const m of profile.motors ?? []) this.motors.set(m.id, m);
  }

  /** Clamps a servo angle into the profile's range (not a number: the rest angle). */
  servo(id: string, angle: number): { angle: number; clamped: boolean } {
    const s = this.servos.get(id);
    if (!s) throw new Error(`unknown servo "${id}"`);
    if (!Number.isFinite(angle)) return { angle: s.rest, clamped: true };
    const a = Math.min(s.max, Math.max(s.min, angle));
    return { angle: a, clamped: a !== angle };
  }

  /**
   * Plans a step from where the servos are: targets into their range, each move at least as long
   * as the step and as its speed limit needs (the easing's peak speed counted in), duties within
   * maxDuty. Unknown ids throw (the executor refuses such cues before they get here).
   */
  plan(step: MotionStep, positionOf: (servo: string) => number): PlannedStep {
    const easing = step.easing ?? 'ease-in-out';
    const out: PlannedStep = { servos: [], motors: [], clamped: [] };
    for (const [id, asked] of Object.entries(step.motors ?? {})) {
      const { duty, clamped } = this.motor(id, asked);
      if (clamped) out.clamped.push({ motor: id, asked, applied: duty, rule: 'maxDuty' });
      out.motors.push({ id, duty });
    }
    for (const [id, asked] of Object.entries(step.servos ?? {})) {
      const { angle, clamped } = this.servo(id, asked);
      if (clamped) out.clamped.push({ servo: id, asked, applied: angle, rule: 'range' });
      const from = positionOf(id);
      const duration = Math.max(step.ms, minMoveMs(from, angle, this.servos.get(id)!.maxSpeed, easing));
      out.servos.push({ id, from, to: angle, duration, easing });
    }
    return out;
  }

  /** The largest step a servo may take in dtMs at its speed limit. */
  servoStep(id: string, dtMs: number): number {
    const s = this.servos.get(id);
    if (!s) throw new Error(`unknown servo "${id}"`);
    return (s.maxSpeed * dtMs) / 1000;
  }

  /** The next angle from `prev` toward `wanted`: inside the range, at most one step of dtMs. */
  servoToward(s: ServoT, prev: number, wanted: number, dtMs: number): number {
    const target = Number.isFinite(wanted) ? Math.min(s.max, Math.max(s.min, wanted)) : prev;
    // A small allowance keeps timer jitter from stalling a move at full speed.
    const maxStep = (s.maxSpeed * dtMs) / 1000 + 1e-9;
    const next = Math.abs(target - prev) <= maxStep ? target : prev + Math.sign(target - prev) * maxStep;
    return Math.min(s.max, Math.max(s.min, next));
  }

  /** Clamps a motor duty to ±maxDuty (not a number: stop). */
  motor(id: string, duty: number): { duty: number; clamped: boolean } {
    const m = this.motors.get(id);
    if (!m) throw new Error(`unknown motor "${id}"`);
    if (!Number.isFinite(duty)) return { duty: 0, clamped: true };
    const d = Math.min(m.maxDuty, Math.max(-m.maxDuty, duty));
    return { duty: d, clamped: d !== duty };
  }

  /** Colour components to integers 0..255, brightness to 0..1. */
  led(color: Rgb, brightness: number): { color: Rgb; brightness: number } {
    const c = (v: number) => Math.round(Math.min(255, Math.max(0, Number.isFinite(v) ? v : 0)));
    return { color: { r: c(color.r), g: c(color.g), b: c(color.b) }, brightness: Math.min(1, Math.max(0, Number.isFinite(brightness) ? brightness : 0)) };
  }
}
