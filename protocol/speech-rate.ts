/**
 * How long a line takes to say, from a speaking rate per language (and per voice when one is
 * configured). Hub and node estimate with the same numbers: the node's simulated voice speaks for
 * this long, and the hub plans fillers, dead air and SRT timings by it.
 *
 * Defaults measured from espeak-ng 1.51's own output on the development machine with
 * `npm run measure:speech-rate` (every line of the two sample shows and the two emotion sets,
 * rendered with `espeak-ng -v <voice> -w`; duration = samples / rate; 60 lines each):
 *   en (en-us): 68.7 ms per character (p10 58, p90 81)
 *   ja (ja, kana readings): 136.2 ms per kana (p10 125, p90 154) = 163.4 ms per written character
 * A Japanese line is timed on its kana reading when one is known (the hub sends it with the cue),
 * else on its written characters at the written rate (a kanji reads as ~1.2 kana on average).
 */

/** Milliseconds per spoken character, by language (the reading's kana for Japanese). */
export const DEFAULT_SPEECH_RATES: Readonly<Record<string, number>> = { en: 69, ja: 136 };
/** Japanese without a reading: per written character (kanji included). */
export const JA_WRITTEN_MS_PER_CHAR = 163;
/** A language with no measured rate: the English one. */
export const FALLBACK_MS_PER_CHAR = 69;
/** The shortest line (a single "はい" still takes a breath). */
export const MIN_LINE_MS = 400;

export interface SpeechTiming {
  language?: string | undefined;
  /** The kana reading, when known: what a Japanese voice actually says. */
  reading?: string | undefined;
  voice?: string | undefined;
  /** Overrides: ms per character by voice name or language code (a voice wins over its language). */
  rates?: Readonly<Record<string, number>> | undefined;
  minMs?: number | undefined;
}

const chars = (s: string) => [...s].length;
const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff]/;

/** The ms-per-character rate for a voice/language (override by voice, then language, then base language). */
export function msPerChar(o: Pick<SpeechTiming, 'language' | 'voice' | 'rates'>): number {
  const lang = o.language?.toLowerCase();
  const base = lang?.split(/[-_]/)[0];
  for (const k of [o.voice, lang, base]) if (k && o.rates?.[k] !== undefined) return o.rates[k]!;
  return (base && DEFAULT_SPEECH_RATES[base]) || FALLBACK_MS_PER_CHAR;
}

/** How long `text` takes to say. */
export function speechDurationMs(text: string, o: SpeechTiming = {}): number {
  const japanese = o.language ? o.language.toLowerCase().startsWith('ja') : JAPANESE.test(text);
  const lang = o.language ?? (japanese ? 'ja' : 'en');
  const rate = msPerChar({ ...o, language: lang });
  let ms: number;
  if (japanese && o.reading) ms = chars(o.reading) * rate;
  // Written Japanese: scale the kana rate by the written/kana ratio measured above.
  else if (japanese) ms = chars(text) * rate * (JA_WRITTEN_MS_PER_CHAR / DEFAULT_SPEECH_RATES.ja!);
  else ms = chars(text) * rate;
  return Math.max(o.minMs ?? MIN_LINE_MS, Math.round(ms));
}
