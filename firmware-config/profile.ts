/**
 * Loads a hardware profile and refuses an impossible one before anything is powered.
 */
import { createHash } from 'node:crypto';
import { Profile, type ProfileT } from './profile-schema.ts';
import { pinNumber, pinProblem, type BoardModel } from './boards.ts';
import { loadYamlDocument, parseYamlDocument } from '../protocol/yaml-document.ts';

export interface LoadedProfile { profile: ProfileT; hash: string; file: string }

/** Cross-field rules the schema cannot express. Messages start with the field path in brackets. */
export function profileProblems(p: ProfileT): string[] {
  const out: string[] = [];
  const ids = new Map<string, string>();
  const claim = (id: string, where: string) => {
    const prev = ids.get(id);
    if (prev) out.push(`[${where}] id "${id}" is already used by ${prev}; ids must be unique within a profile`);
    else ids.set(id, where);
  };
  const boards = new Set((p.boards ?? []).map((b) => b.id));
  const models = new Map<string, BoardModel>((p.boards ?? []).map((b) => [b.id, b.model ?? 'uno']));
  const onlyBoard = boards.size === 1 ? [...boards][0] : undefined;
  /** The model of the board a device sits on, when it is known. */
  const modelOf = (board: string | undefined): BoardModel | undefined => models.get(board ?? onlyBoard ?? '');
  /** Refuses a pin the board does not have, or one without the PWM/analog function it needs. */
  const pinCan = (board: string | undefined, pin: number | string | undefined, need: 'digital' | 'pwm' | 'analog', where: string) => {
    if (pin === undefined || p.platform === 'sim') return;
    const model = modelOf(board);
    if (!model) return;
    const problem = pinProblem(model, pin, need);
    if (problem) out.push(`[${where}] ${problem}`);
  };
  const ports = new Map<string, string>();
  (p.boards ?? []).forEach((b, i) => {
    const prev = ports.get(b.port);
    if (prev) out.push(`[boards.${i}.port] port ${b.port} is already used by ${prev}`);
    else ports.set(b.port, `boards.${i}`);
  });
  const pins = new Map<string, string>();
  const usePin = (board: string | undefined, pin: number | string | undefined, where: string) => {
    if (pin === undefined) return;
    const b = board ?? onlyBoard;
    const model = modelOf(b);
    // "A0" and 14 are the same pin on an Uno: compare pin numbers, not spellings.
    const n = model ? pinNumber(model, pin) : pin;
    const key = `${b ?? '(default)'}:${n}`;
    const prev = pins.get(key);
    if (prev) out.push(`[${where}] pin ${pin} is already used by ${prev}; give each its own pin`);
    else pins.set(key, where);
  };
  const needsBoard = (board: string | undefined, where: string, pin: unknown) => {
    if (p.platform === 'sim' || pin === undefined) return;
    if (!board && boards.size !== 1) out.push(`[${where}] name the board this pin is on (boards: ${[...boards].join(', ') || 'none declared'})`);
    else if (board && !boards.has(board)) out.push(`[${where}.board] unknown board "${board}" (declared: ${[...boards].join(', ') || 'none'})`);
  };
  (p.servos ?? []).forEach((s, i) => {
    const w = `servos.${i}`;
    claim(s.id, w);
    if (s.min < 0) out.push(`[${w}.min] servo range ${s.min}..${s.max}° is outside 0..180°: min must be at least 0°`);
    if (s.max > 180) out.push(`[${w}.max] servo range ${s.min}..${s.max}° is outside 0..180°: max must be at most 180°`);
    if (s.min > s.max) out.push(`[${w}.min] min ${s.min}° is above max ${s.max}°`);
    if (s.pulseUs && s.pulseUs.min >= s.pulseUs.max) out.push(`[${w}.pulseUs] pulse range ${s.pulseUs.min}..${s.pulseUs.max} µs: min must be below max`);
    pinCan(s.board, s.pin, 'pwm', `${w}.pin`);
    if (s.rest < s.min || s.rest > s.max) out.push(`[${w}.rest] rest pose ${s.rest}° is outside the servo range ${s.min}..${s.max}°`);
    needsBoard(s.board, w, s.pin);
    if (p.platform !== 'sim' && s.pin === undefined) out.push(`[${w}] a servo on real hardware needs a pin`);
    usePin(s.board, s.pin, w);
  });
  (p.motors ?? []).forEach((m, i) => {
    const w = `motors.${i}`;
    claim(m.id, w);
    const pinsOf = m.pins ?? {};
    if (p.platform !== 'sim') {
      if (m.driver === 'pwm-dir' && (pinsOf.pwm === undefined || pinsOf.dir === undefined)) out.push(`[${w}.pins] a pwm-dir motor needs pins.pwm and pins.dir`);
      if (m.driver === 'dual-pwm' && (pinsOf.a === undefined || pinsOf.b === undefined)) out.push(`[${w}.pins] a dual-pwm motor needs pins.a and pins.b`);
    }
    for (const [k, v] of Object.entries(pinsOf)) {
      needsBoard(m.board, w, v);
      usePin(m.board, v, `${w}.pins.${k}`);
      pinCan(m.board, v, k === 'dir' ? 'digital' : 'pwm', `${w}.pins.${k}`);
    }
    if (m.driver === 'pwm-dir' && (pinsOf.a !== undefined || pinsOf.b !== undefined)) out.push(`[${w}.pins] a pwm-dir motor uses pins.pwm and pins.dir, not a/b`);
    if (m.driver === 'dual-pwm' && (pinsOf.pwm !== undefined || pinsOf.dir !== undefined)) out.push(`[${w}.pins] a dual-pwm motor uses pins.a and pins.b, not pwm/dir`);
  });
  (p.leds ?? []).forEach((l, i) => {
    const w = `leds.${i}`;
    claim(l.id, w);
    if (l.type === 'rgb' && p.platform !== 'sim' && !l.pins) out.push(`[${w}] an rgb LED needs pins r, g and b`);
    if (l.type !== 'rgb' && p.platform !== 'sim' && l.pin === undefined) out.push(`[${w}] this LED needs a pin`);
    needsBoard(l.board, w, l.pin ?? l.pins);
    usePin(l.board, l.pin, w);
    pinCan(l.board, l.pin, l.type === 'single' ? 'digital' : 'pwm', `${w}.pin`);
    for (const [k, v] of Object.entries(l.pins ?? {})) { usePin(l.board, v, `${w}.pins.${k}`); pinCan(l.board, v, 'pwm', `${w}.pins.${k}`); }
  });
  (p.sensors ?? []).forEach((s, i) => {
    const w = `sensors.${i}`;
    claim(s.id, w);
    if ('pin' in s) {
      usePin(s.board, s.pin, w);
      const analog = (s.kind === 'distance' && s.model === 'gp2y0a21') || (s.kind === 'temperature' && (s.model === 'lm35' || s.model === 'tmp36'));
      if (analog) {
        needsBoard(s.board, w, s.pin);
        if (p.platform !== 'sim' && s.pin === undefined) out.push(`[${w}] a ${s.model} sensor needs an analog pin`);
        pinCan(s.board, s.pin, 'analog', `${w}.pin`);
      }
    }
    if (s.kind === 'temperature' && (s.model === 'ds18b20' || s.model === 'thermal-zone') && !s.path && p.platform !== 'sim') {
      out.push(`[${w}.path] a ${s.model} sensor needs a path (e.g. /sys/bus/w1/devices/28-... or /sys/class/thermal/thermal_zone0)`);
    }
  });
  if (p.gpio?.estop) {
    const lines = new Map<number, string>();
    const useLine = (line: number, where: string) => {
      const prev = lines.get(line);
      if (prev) out.push(`[${where}] GPIO line ${line} is already used by ${prev}`); else lines.set(line, where);
    };
    useLine(p.gpio.estop.line, 'gpio.estop.line');
    (p.gpio.relays ?? []).forEach((r, i) => useLine(r.line, `gpio.relays.${i}.line`));
    if (p.gpio.statusLed) useLine(p.gpio.statusLed.line, 'gpio.statusLed.line');
  }
  const servoIds = new Set((p.servos ?? []).map((s) => s.id));
  for (const [name, frames] of Object.entries(p.gestures ?? {})) {
    frames.forEach((f, i) => {
      for (const sid of Object.keys(f.servos ?? {})) {
        if (!servoIds.has(sid)) out.push(`[gestures.${name}.${i}.servos] gesture "${name}" moves servo "${sid}", which this profile does not have`);
      }
    });
  }
  return out;
}

export function loadProfile(file: string): LoadedProfile {
  const doc = loadYamlDocument<ProfileT>(file, Profile, profileProblems);
  return { profile: doc.value, file, hash: createHash('sha256').update(doc.text).digest('hex') };
}

export function parseProfile(file: string, text: string): LoadedProfile {
  const doc = parseYamlDocument<ProfileT>(file, text, Profile, profileProblems);
  return { profile: doc.value, file, hash: createHash('sha256').update(doc.text).digest('hex') };
}
