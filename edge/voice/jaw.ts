/**
 * Jaw sync: a speech envelope (mouth opening 0..1 per frame) becomes jaw servo angles, one per
 * motion frame. The motion layer plays them (and applies its own speed limits); the jaw closes to
 * its rest angle at the end of the line.
 */
import type { ServoT } from '../../firmware-config/profile-schema.ts';

export interface JawFrame { t: number; angle: number }

export interface JawOptions {
  /** Motion frame period, ms (50 Hz = 20). */
  frameMs?: number;
  /** How far the jaw opens at full loudness, as a share of its range (0..1). */
  gain?: number;
  /** Smallest change worth sending, degrees (keeps the servo from buzzing). */
  deadbandDeg?: number;
}

/** Samples the envelope at time t (ms), linearly between its frames. */
export function envelopeAt(env: { frameMs: number; values: number[] }, t: number): number {
  const x = t / env.frameMs;
  const i = Math.floor(x);
  if (i < 0 || !env.values.length) return 0;
  if (i >= env.values.length - 1) return i >= env.values.length ? 0 : env.values[i]!;
  const f = x - i;
  return env.values[i]! * (1 - f) + env.values[i + 1]! * f;
}

/** The jaw's angle frames for a line: closed = rest, open = toward the far end of its range. */
export function jawFrames(env: { frameMs: number; values: number[] }, jaw: Pick<ServoT, 'min' | 'max' | 'rest'>, opts: JawOptions = {}): JawFrame[] {
  const frameMs = opts.frameMs ?? 20;
  const gain = Math.min(1, Math.max(0, opts.gain ?? 1));
  const deadband = opts.deadbandDeg ?? 0.5;
  // Open away from rest: toward max if rest sits at the low end, else toward min.
  const open = jaw.rest - jaw.min <= jaw.max - jaw.rest ? jaw.max : jaw.min;
  const span = (open - jaw.rest) * gain;
  const total = env.values.length * env.frameMs;
  const out: JawFrame[] = [];
  let last = Number.NaN;
  for (let t = 0; t < total; t += frameMs) {
    const angle = Math.round((jaw.rest + span * envelopeAt(env, t)) * 10) / 10;
    if (!(Math.abs(angle - last) < deadband)) { out.push({ t, angle }); last = angle; }
  }
  if (last !== jaw.rest) out.push({ t: total, angle: jaw.rest });
  return out;
}
