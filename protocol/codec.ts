/**
 * Encoding and checking payloads. Every message a process receives goes through decode():
 * an invalid one comes back as an error in words (never an exception), so a malformed
 * payload can be reported and dropped without crashing anything or moving anything.
 */
import type { ValidateFunction, ErrorObject } from 'ajv';
import type { Static } from '@sinclair/typebox';
import { CHANNELS, type ChannelName } from './topics.ts';
import { isId } from './ids.ts';
import { compileValidator } from './validators.ts';

// Precompiled by the build in dist/, compiled here under tsx (protocol/validators.ts).
const validators = new Map<ChannelName, ValidateFunction>();
function validatorFor(name: ChannelName): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    v = compileValidator(CHANNELS[name].schema, 'payload');
    validators.set(name, v);
  }
  return v;
}

/** Compiles every validator up front, so the first cue of a show is not slowed by schema compilation. */
export function precompileValidators(): void {
  for (const name of Object.keys(CHANNELS) as ChannelName[]) validatorFor(name);
}

export type PayloadOf<N extends ChannelName> = Static<(typeof CHANNELS)[N]['schema']>;
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Largest payload accepted on any topic: a guard against a flood of garbage. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

export function describeAjvError(e: ErrorObject): string {
  const where = e.instancePath ? e.instancePath.replace(/^\//, '').replace(/\//g, '.') : '(payload)';
  if (e.keyword === 'additionalProperties') return `${where}: unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'required') return `${where}: missing field "${(e.params as { missingProperty: string }).missingProperty}"`;
  if (e.keyword === 'enum' || e.keyword === 'const') return `${where}: must be ${JSON.stringify((e.params as { allowedValues?: unknown; allowedValue?: unknown }).allowedValues ?? (e.params as { allowedValue?: unknown }).allowedValue)}`;
  if (e.keyword === 'pattern') return `${where}: ${JSON.stringify(e.data)} does not match ${(e.params as { pattern: string }).pattern}${(e.params as { pattern: string }).pattern.includes('a-z0-9') ? ' (ids use a-z, 0-9 and -)' : ''}`;
  return `${where}: ${e.message ?? 'is invalid'}`;
}

/** Checks a value against a channel's schema. */
export function check<N extends ChannelName>(name: N, value: unknown): Decoded<PayloadOf<N>> {
  const v = validatorFor(name);
  if (v(value)) return { ok: true, value: value as PayloadOf<N> };
  // For unions Ajv reports the first branch that failed; pick the most specific message.
  const errs = v.errors ?? [];
  const best = errs.find((e) => e.keyword !== 'anyOf' && e.keyword !== 'const') ?? errs[0];
  return { ok: false, error: best ? describeAjvError(best) : 'does not match the schema' };
}

/** Parses and checks a raw MQTT payload for a channel. Console commands accept their bare forms. */
export function decode<N extends ChannelName>(name: N, payload: Buffer | string): Decoded<PayloadOf<N>> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  if (size > MAX_PAYLOAD_BYTES) return { ok: false, error: `payload of ${size} bytes is larger than the ${MAX_PAYLOAD_BYTES}-byte limit` };
  const text = payload.toString().trim();
  const ch = CHANNELS[name] as (typeof CHANNELS)[ChannelName] & { bare?: 'empty' | 'id' | 'text'; bareField?: string };
  const field = ch.bareField ?? 'scene';
  if (ch.bare === 'empty' && text === '') return { ok: true, value: {} as PayloadOf<N> };
  if (ch.bare === 'id' && !text.startsWith('{') && !text.startsWith('"')) {
    if (isId(text)) return { ok: true, value: { [field]: text } as PayloadOf<N> };
    return { ok: false, error: `"${String(text).slice(0, 80)}" is not a ${field} id (use a-z, 0-9 and '-')` };
  }
  if (ch.bare === 'text') {
    // `null`, `42`, `true`, `[...]` or nothing at all are not a question someone typed.
    if (text === '') return { ok: false, error: `empty ${field}: send the ${field} as text, or as {"${field}": "..."}` };
    if (/^(null|true|false|-?\d[\d.eE+-]*|\[[\s\S]*\])$/.test(text)) return { ok: false, error: `${text.slice(0, 40)} is not a ${field}: send the ${field} as text, or as {"${field}": "..."}` };
    if (!text.startsWith('{') && !text.startsWith('"')) return check(name, { [field]: text });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `payload is not valid JSON (${(e as Error).message})` };
  }
  if (ch.bare === 'id' && typeof value === 'string') {
    return isId(value) ? { ok: true, value: { [field]: value } as PayloadOf<N> } : { ok: false, error: `"${String(value).slice(0, 80)}" is not a ${field} id` };
  }
  if (ch.bare === 'text' && typeof value === 'string') return value.trim() ? check(name, { [field]: value }) : { ok: false, error: `empty ${field}: send the ${field} as text, or as {"${field}": "..."}` };
  return check(name, value);
}

/** Serialises a payload after checking it: the code never sends what the contract forbids. */
export function encode<N extends ChannelName>(name: N, value: PayloadOf<N>): string {
  const r = check(name, value);
  if (!r.ok) throw new Error(`refusing to publish an invalid ${name} payload: ${r.error}`);
  return JSON.stringify(value);
}
