/**
 * The structured turn as a JSON schema for constrained decoding: the speaker the director chose
 * (one of the characters on stage), the emotion from the stage's enum, an intensity step, a
 * gesture from the speaker's node manifest (or "none"), and the line. Every property is written,
 * in this order (the line last, so what it says can follow from the emotion, or right after the
 * speaker when lines are streamed; llama.cpp's grammar writes every property anyway). Intensity is an enum of steps because grammars cannot
 * bound a number. Backends enforce it while decoding; structuralCheck() says whether an answer
 * met it as given (structural pass@1), before any repair.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { Character } from './character.ts';
import { EMOTIONS } from './emotion.ts';

export const INTENSITY_STEPS = [0.2, 0.4, 0.6, 0.8, 1] as const;
/** Characters of a constrained line (below the parser's MAX_LINE_CHARS, so no constrained line is cut). */
export const CONSTRAINED_LINE_CHARS = 200;

export function turnResponseSchema(o: { speaker: Character; gestures: readonly string[]; maxLineChars?: number; lineFirst?: boolean }): Record<string, unknown> {
  const line = { line: { type: 'string', minLength: 2, maxLength: o.maxLineChars ?? CONSTRAINED_LINE_CHARS } };
  const rest = {
    emotion: { type: 'string', enum: [...EMOTIONS] },
    intensity: { type: 'number', enum: [...INTENSITY_STEPS] },
    ...(o.gestures.length ? { gesture: { type: 'string', enum: [...o.gestures, 'none'] } } : {}),
  };
  // Streaming asks for the line right after the speaker: its first clause can then go on stage
  // after a handful of tokens instead of after every other field.
  const properties = o.lineFirst ? { speaker: { type: 'string', enum: [o.speaker.name] }, ...line, ...rest } : { speaker: { type: 'string', enum: [o.speaker.name] }, ...rest, ...line };
  return { title: 'KurokoTurn', type: 'object', properties, required: Object.keys(properties), additionalProperties: false };
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validators = new Map<string, ValidateFunction>();

/** True when `raw` is exactly one JSON object (whitespace aside) that passes `schema`. */
export function structuralCheck(schema: Record<string, unknown>, raw: string): boolean {
  const key = JSON.stringify(schema);
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(schema);
    if (validators.size > 64) validators.clear();
    validators.set(key, v);
  }
  let obj: unknown;
  try { obj = JSON.parse(raw.trim()); } catch { return false; }
  return !!obj && typeof obj === 'object' && !Array.isArray(obj) && v(obj);
}
