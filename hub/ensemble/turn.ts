/**
 * Structured turns. The model's answer must give speaker, line, emotion (and optionally intensity
 * and gesture). It is checked against a TypeBox schema with Ajv; what fails is repaired where the
 * meaning is clear (play format "NAME: text", junk and stage directions stripped, a run-on cut at
 * the next speaker, a missing emotion inferred) and otherwise reported invalid, so the caller
 * regenerates. Every outcome is counted.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { normalizeEmotion, resolveEmotion, type Emotion } from './emotion.ts';
import { findCharacter, type Character } from './character.ts';
import { maxLineChars, truncateAtSentence } from './language.ts';

export const TurnSchema = Type.Object({
  speaker: Type.String({ minLength: 1, maxLength: 80 }),
  line: Type.String({ minLength: 2, maxLength: 400 }),
  emotion: Type.String({ minLength: 1, maxLength: 40 }),
  intensity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  gesture: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' })),
  beat: Type.Optional(Type.String({ maxLength: 80 })),
}, { additionalProperties: true });
export type RawTurn = Static<typeof TurnSchema>;

/** A turn ready for the stage: the speaker is a character id, the emotion one the stage knows. */
export interface Turn {
  speaker: string;
  line: string;
  emotion: Emotion;
  intensity: number;
  gesture?: string;
  beat?: string;
}

export type ParseStatus = 'valid' | 'repaired' | 'invalid';
export interface ParseResult {
  status: ParseStatus;
  turn?: Turn;
  /** What was wrong (for invalid) or what was fixed (for repaired). */
  notes: string[];
  /** The speaker the answer named, when it named another character. */
  wrongSpeaker?: string;
}

const ajv = new Ajv({ allErrors: false, strict: false });
const validateRaw = ajv.compile(TurnSchema);

/** The English limit; language.ts gives each language its own (Japanese counts 80 characters). */
export const MAX_LINE_CHARS = 240;

/** Counts of parse outcomes, regenerations and fallbacks; the eval and the hub report them. */
export class TurnStats {
  valid = 0;
  repaired = 0;
  invalid = 0;
  regenerated = 0;
  fallbacks = 0;
  fillers = 0;
  wrongSpeaker = 0;
  repeats = 0;
  timeouts = 0;
  /** Lines the operator vetoed or sent back in curator mode. */
  curatorRejected = 0;
  record(r: ParseResult): void {
    this[r.status]++;
    if (r.wrongSpeaker) this.wrongSpeaker++;
  }
  snapshot(): Record<string, number> {
    const { valid, repaired, invalid, regenerated, fallbacks, fillers, wrongSpeaker, repeats, timeouts, curatorRejected } = this;
    return { valid, repaired, invalid, regenerated, fallbacks, fillers, wrongSpeaker, repeats, timeouts, curatorRejected };
  }
}

/**
 * Parses a model answer for `expected` (the character who was asked to speak), among `cast`
 * (who is on stage). The answer may be a JSON object, or play format, possibly with junk.
 */
export function parseTurn(raw: string, expected: Character, cast: readonly Character[], o: { continuation?: boolean } = {}): ParseResult {
  const notes: string[] = [];
  const text = stripJunk(raw, notes);
  if (!text) return { status: 'invalid', notes: [...notes, 'empty answer'] };

  // 1. JSON, possibly wrapped in prose or a code fence.
  const json = extractJson(text, notes);
  if (json !== undefined) {
    if (json && typeof json === 'object' && !Array.isArray(json)) {
      const obj = json as Record<string, unknown>;
      const strictOk = validateRaw(obj) && notes.length === 0;
      const speakerName = typeof obj.speaker === 'string' ? obj.speaker : typeof obj.name === 'string' ? obj.name : undefined;
      const lineText = typeof obj.line === 'string' ? obj.line : typeof obj.text === 'string' ? obj.text : undefined;
      if (speakerName === undefined) notes.push('no speaker: assumed the one asked');
      else if (!strictOk && notes.length === 0) notes.push('fields coerced to the schema');
      const who = speakerName === undefined ? expected : findCharacter(cast, speakerName);
      if (!who) return { status: 'invalid', notes: [...notes, `speaker "${speakerName}" is not on stage`], wrongSpeaker: speakerName };
      if (who.id !== expected.id) return { status: 'invalid', notes: [...notes, `answered as ${who.name}, not ${expected.name}`], wrongSpeaker: who.id };
      if (lineText === undefined) return { status: 'invalid', notes: [...notes, 'no line'] };
      return finish(expected, lineText, asString(obj.emotion), asNumber(obj.intensity), asString(obj.gesture), asString(obj.beat), strictOk ? 'valid' : 'repaired', notes, cast);
    }
    notes.push('JSON that is not an object: read as text');
  }

  // 2. Play format: "NAME: (emotion 0.7) text *gesture*", or a bare continuation of "NAME:".
  let body = text;
  // Names in any script ("Kenzaki:", "睦月：").
  const first = /^\s*(\p{L}[\p{L}\p{N}_ .'-]{0,40}?)\s*[:：]\s*/u.exec(body);
  let named = false;
  if (first) {
    const who = findCharacter(cast, first[1]!);
    if (who && who.id !== expected.id) return { status: 'invalid', notes: [...notes, `answered as ${who.name}, not ${expected.name}`], wrongSpeaker: who.id };
    if (who) { body = body.slice(first[0].length); named = true; }
    // A play-format tag (upper case) naming someone not on stage: not this character's line.
    else if (/^[A-Z][A-Z .'-]+$/.test(first[1]!.trim()) && first[1]!.trim().length > 1) {
      return { status: 'invalid', notes: [...notes, `answered as ${first[1]!.trim()}, who is not on stage`], wrongSpeaker: first[1]!.trim().toLowerCase() };
    }
  }
  // A play prompt ends with "NAME:", so an untagged answer is the expected form there.
  if (!named && !o.continuation) notes.push('no speaker tag: read as a continuation');
  // Cut a run-on at the next speaker tag or a blank line.
  const cut = cutRunOn(body, cast);
  if (cut !== body) notes.push('cut at the next speaker');
  body = cut;
  let emotion: string | undefined;
  let intensity: number | undefined;
  if (/^\s*["'“‘「]\s*[([（［]/.test(body)) { body = body.replace(/^\s*["'“‘「]/, '').replace(/["'”’」]\s*$/, ''); notes.push('quotes around the line dropped'); }
  const tag = leadingTag(body);
  if (tag) {
    emotion = tag.label;
    intensity = tag.intensity;
    body = tag.rest;
  }
  let gesture: string | undefined;
  body = body.replace(/\*([a-z][a-z-]{0,30})\*/gi, (_, g: string) => { gesture ??= g.toLowerCase(); return ' '; });
  const strictPlay = (named || !!o.continuation) && emotion !== undefined && notes.length === 0;
  return finish(expected, body, emotion, intensity, gesture, undefined, strictPlay ? 'valid' : 'repaired', notes, cast);
}

/** An emotion tag at the start of a line: "(anger 0.8)", "[worry]", "（怒り 0.8）". Only known emotions count. */
function leadingTag(body: string): { label: string; intensity?: number; rest: string } | null {
  const tag = /^\s*[([（［]\s*(\p{L}+)(?:[\s,、]+(0?\.\d+|1(?:\.0+)?|0))?\s*[)\]）］]\s*/u.exec(body);
  if (!tag || !normalizeEmotion(tag[1])) return null;
  return { label: tag[1]!, ...(tag[2] !== undefined ? { intensity: Number(tag[2]) } : {}), rest: body.slice(tag[0].length) };
}

function finish(expected: Character, line: string, emotionLabel: string | undefined, intensity: number | undefined, gesture: string | undefined,
  beat: string | undefined, status: ParseStatus, notes: string[], cast: readonly Character[]): ParseResult {
  // A tag left inside the line (a JSON line "(surprise 0.7) Wait.", a name tag before it): the label is lifted, never spoken.
  const inner = leadingTag(cleanLine(line, cast));
  if (inner) {
    emotionLabel ??= inner.label;
    intensity ??= inner.intensity;
  }
  let clean = cleanLine(line, cast);
  if (clean !== line.trim()) { if (status === 'valid') status = 'repaired'; notes.push('line cleaned'); }
  const max = maxLineChars(expected.persona.language);
  if ([...clean].length > max) {
    clean = truncateAtSentence(clean, max);
    status = 'repaired';
    notes.push('line shortened');
  }
  if (clean.length < 2 || !/\p{L}/u.test(clean)) return { status: 'invalid', notes: [...notes, 'no words in the line'] };
  const em = resolveEmotion(emotionLabel, intensity, clean);
  if (em.inferred) { status = 'repaired'; notes.push(emotionLabel ? `unknown emotion "${emotionLabel}": inferred` : 'no emotion: inferred'); }
  // "none" is how a constrained answer says it has no gesture.
  if (gesture === 'none') gesture = undefined;
  const g = gesture && /^[a-z0-9][a-z0-9-]{0,62}$/.test(gesture) ? gesture : undefined;
  if (gesture && !g) { status = 'repaired'; notes.push(`bad gesture "${gesture}" dropped`); }
  const turn: Turn = { speaker: expected.id, line: clean, emotion: em.emotion, intensity: round2(em.intensity), ...(g ? { gesture: g } : {}), ...(beat ? { beat } : {}) };
  // The final form always passes the schema.
  if (!validateRaw({ ...turn })) return { status: 'invalid', notes: [...notes, 'repaired turn still invalid'] };
  return { status, turn, notes };
}

function stripJunk(raw: string, notes: string[]): string {
  let t = raw.replace(/<\|[^|>]{0,40}\|>|<\/?s>|\[INST\]|\[\/INST\]/g, ' ').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/g, '');
  if (t !== raw) notes.push('special tokens stripped');
  const unfenced = t.replace(/^\s*```(?:json)?\s*|\s*```\s*$/g, '');
  if (unfenced !== t) notes.push('code fence stripped');
  t = unfenced;
  return t.trim();
}

function extractJson(text: string, notes: string[]): unknown {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  let depth = 0;
  let inStr = false;
  let end = -1;
  for (let i = start; i < text.length; i++) {
    const ch = text[i];
    if (inStr) {
      if (ch === '\\') i++;
      else if (ch === '"') inStr = false;
    } else if (ch === '"') inStr = true;
    else if (ch === '{') depth++;
    else if (ch === '}' && --depth === 0) { end = i; break; }
  }
  let candidate = end > 0 ? text.slice(start, end + 1) : text.slice(start) + '"}'.slice(inStr ? 0 : 1);
  if (end < 0) notes.push('unterminated JSON closed');
  if (start > 0 || (end > 0 && end < text.length - 1)) notes.push('text around the JSON dropped');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return JSON.parse(candidate) as unknown;
    } catch {
      if (attempt === 0) {
        notes.push('JSON syntax repaired');
        candidate = candidate
          .replace(/([{,]\s*)([A-Za-z_]\w*)\s*:/g, '$1"$2":')
          .replace(/'([^'\n]*)'/g, (_, s: string) => JSON.stringify(s))
          .replace(/,\s*([}\]])/g, '$1');
      }
    }
  }
  if (start === 0) return undefined; // not JSON after all: read as play text
  return undefined;
}

function cutRunOn(body: string, cast: readonly Character[]): string {
  const names = cast.flatMap((c) => [c.name, c.id, c.name.split(/\s+/)[0]!]).map(escapeRe);
  const re = new RegExp(`(?:\\n|\\s{2,}|^)\\s*(?:${names.join('|')})\\s*:`, 'i');
  let out = body;
  const m = re.exec(out.slice(1));
  if (m) out = out.slice(0, m.index + 1);
  const blank = out.search(/\n\s*\n/);
  if (blank > 0) out = out.slice(0, blank);
  return out;
}

/**
 * The words to speak, with every piece of markup gone: stage directions, emotion tags anywhere
 * ("(surprise 0.7)", "（怒り）", "[worry]"), *gestures*, <tags>, name tags, quotes around it.
 * What is left is what a voice says and the journal keeps.
 */
export function cleanLine(line: string, cast: readonly Character[]): string {
  let t = line.replace(/\s+/g, ' ').trim();
  // Stage directions in brackets are not spoken.
  t = t.replace(/\s*[[［][^\]］]{0,80}[\]］]\s*/g, ' ').replace(/\s*\((?:[a-z]+ly|laughs?|sighs?|pauses?|beat|to [A-Z]?\w+)[^)]{0,60}\)\s*/gi, ' ').trim();
  // Emotion tags anywhere: a known label, with or without an intensity; any word with an intensity.
  t = t.replace(/\s*[(（]\s*(\p{L}+)(?:[\s,、]+(?:0?\.\d+|1(?:\.0+)?|0))?\s*[)）]\s*/gu, (m, label: string) => (normalizeEmotion(label) || /\d/.test(m) ? ' ' : m));
  t = t.replace(/\*[^*\n]{1,40}\*/g, ' ').replace(/<\/?[a-z][^>]{0,40}>/gi, ' ').trim();
  // A repeated own name tag left inside the line (any script, either colon).
  for (let again = true; again;) {
    again = false;
    for (const c of cast) {
      for (const n of [c.name, c.id]) {
        const re = new RegExp(`^${escapeRe(n)}\\s*[:：]\\s*`, 'iu');
        if (re.test(t)) { t = t.replace(re, ''); again = true; }
      }
    }
    if (/^\s*[(（]\s*\p{L}+(?:[\s,、]+[\d.]+)?\s*[)）]/u.test(t)) { t = t.replace(/^\s*[(（][^)）]*[)）]\s*/u, ''); again = true; }
  }
  t = t.replace(/^["'“”‘’「『]+|["'“”‘’」』]+$/g, '').trim();
  return t.replace(/\s+/g, ' ').replace(/\s+([、。！？!?.,])/g, '$1');
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const asString = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
const asNumber = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined);
const round2 = (x: number) => Math.round(x * 100) / 100;
