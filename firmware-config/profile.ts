/**
 * Loads a hardware profile and refuses an impossible one before anything is powered.
 */
import { createHash } from 'node:crypto';
import { Profile, type ProfileT } from './profile-schema.ts';
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
  const pins = new Map<string, string>();
  const usePin = (board: string | undefined, pin: number | string | undefined, where: string) => {
    if (pin === undefined) return;
    const key = `${board ?? '(default)'}:${pin}`;
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
    if (s.min < 0 || s.max > 180) out.push(`[${w}] servo range ${s.min}..${s.max}° is outside 0..180°`);
    if (s.min > s.max) out.push(`[${w}] min ${s.min}° is above max ${s.max}°`);
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
    for (const [k, v] of Object.entries(pinsOf)) { needsBoard(m.board, w, v); usePin(m.board, v, `${w}.pins.${k}`); }
  });
  (p.leds ?? []).forEach((l, i) => {
    const w = `leds.${i}`;
    claim(l.id, w);
    if (l.type === 'rgb' && p.platform !== 'sim' && !l.pins) out.push(`[${w}] an rgb LED needs pins r, g and b`);
    if (l.type !== 'rgb' && p.platform !== 'sim' && l.pin === undefined) out.push(`[${w}] this LED needs a pin`);
    usePin(l.board, l.pin, w);
    for (const [k, v] of Object.entries(l.pins ?? {})) usePin(l.board, v, `${w}.pins.${k}`);
  });
  (p.sensors ?? []).forEach((s, i) => {
    const w = `sensors.${i}`;
    claim(s.id, w);
    if ('pin' in s) usePin(s.board, s.pin, w);
  });
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
