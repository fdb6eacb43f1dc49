/**
 * Pure conversions between what the show asks for and what the pins get, and from sensor voltages
 * to physical units. Kept apart from I/O so each formula has one home and a unit test.
 */
import type { LedT, MotorT, ServoT } from '../../firmware-config/profile-schema.ts';
import type { Rgb } from './types.ts';

export const DEFAULT_PULSE_US = { min: 544, max: 2400 } as const;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Angle the servo horn should reach, clamped to the profile range; NaN stays out (null). */
export function clampServoAngle(s: Pick<ServoT, 'min' | 'max'>, angleDeg: number): number | null {
  if (!Number.isFinite(angleDeg)) return null;
  return clamp(angleDeg, s.min, s.max);
}

/** Pulse width for an angle: inverted servos mirror around 90°, so 0° maps to the top of the pulse range. */
export function servoPulseUs(s: Pick<ServoT, 'min' | 'max' | 'inverted'> & { pulseUs?: { min: number; max: number } }, angleDeg: number): number | null {
  const a = clampServoAngle(s, angleDeg);
  if (a === null) return null;
  const { min, max } = s.pulseUs ?? DEFAULT_PULSE_US;
  const deg = s.inverted ? 180 - a : a;
  return Math.round(min + ((max - min) * deg) / 180);
}

/** PWM duty (0..255) per motor pin for a signed duty in -1..1, clamped to the motor's maxDuty. */
export function motorOutputs(m: Pick<MotorT, 'driver' | 'maxDuty'>, duty: number): { pwm: number; forward: boolean; a: number; b: number } {
  const d = Number.isFinite(duty) ? clamp(duty, -m.maxDuty, m.maxDuty) : 0;
  const pwm = Math.round(Math.abs(d) * 255);
  const forward = d >= 0;
  return { pwm, forward, a: forward ? pwm : 0, b: forward ? 0 : pwm };
}

/** Pin values for an LED: 0..255 per channel (PWM) or 0/1 (single), inverted for common anode. */
export function ledOutputs(l: Pick<LedT, 'type' | 'common'>, color: Rgb, brightness: number): number[] {
  const k = Number.isFinite(brightness) ? clamp(brightness, 0, 1) : 0;
  const ch = (c: number) => Math.round(clamp(Number.isFinite(c) ? c : 0, 0, 255) * k);
  const anode = l.common === 'anode';
  if (l.type === 'rgb') return [ch(color.r), ch(color.g), ch(color.b)].map((v) => (anode ? 255 - v : v));
  const level = Math.max(ch(color.r), ch(color.g), ch(color.b));
  if (l.type === 'single') return [level > 0 !== anode ? 1 : 0];
  return [anode ? 255 - level : level];
}

/** The "off" value of each LED pin, used as the firmware's safe state. */
export function ledOffOutputs(l: Pick<LedT, 'type' | 'common'>): number[] {
  return ledOutputs(l, { r: 0, g: 0, b: 0 }, 0);
}

/** 10-bit ADC reading to volts. */
export function adcVolts(raw: number, vref = 5, bits = 10): number {
  return (raw / ((1 << bits) - 1)) * vref;
}

/**
 * Sharp GP2Y0A21YK0F: output voltage to distance, a power fit of the datasheet curve
 * (about 2.3 V at 10 cm, 0.4 V at 80 cm). Outside 10..80 cm it reads the nearest limit: below
 * 10 cm the curve folds back, so the sensor must be mounted to never see closer than that.
 */
export function gp2y0a21Cm(volts: number): number {
  if (!(volts > 0.05)) return 80;
  return Math.round(clamp(27.728 * Math.pow(volts, -1.2045), 10, 80) * 10) / 10;
}

/** LM35: 10 mV/°C from 0 °C. */
export function lm35C(volts: number): number {
  return Math.round(volts * 100 * 10) / 10;
}

/** TMP36: 10 mV/°C with a 500 mV offset. */
export function tmp36C(volts: number): number {
  return Math.round((volts - 0.5) * 100 * 10) / 10;
}

/** A DS18B20 w1_slave file ("... crc=.. YES\n... t=23125") to °C; null when the CRC failed. */
export function parseW1Slave(text: string): number | null {
  if (!/YES\s*$/m.test(text.split('\n')[0] ?? '')) return null;
  const m = /t=(-?\d+)/.exec(text);
  return m ? Number(m[1]) / 1000 : null;
}

/** A thermal zone or DS18B20 "temperature" file: millidegrees. */
export function parseMilliC(text: string): number | null {
  const v = Number(text.trim());
  return Number.isFinite(v) && text.trim() !== '' ? v / 1000 : null;
}
