/**
 * Kana readings of Japanese lines, on the hub. espeak-ng's `ja` voice speaks kana but reads every
 * kanji as the English words "Chinese letter"; kuromoji (IPADIC, shipped inside the npm package)
 * turns 睦月が昇る into ムツキガノボル. Its dictionary costs ~385 MB RSS once built (~2–8 s), which
 * a hub can afford and a small node cannot: so the hub computes each line's reading and sends it
 * with the cue (LineParams.reading), and the node speaks the reading.
 *
 * The reading is the pronunciation form (は as ワ, long vowels as ー), punctuation kept for the
 * pauses; a kanji with no known reading is dropped rather than spoken as "Chinese letter".
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

interface KuromojiToken { surface_form: string; reading?: string; pronunciation?: string }
interface KuromojiTokenizer { tokenize(text: string): KuromojiToken[] }

const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/;
const HAN = /[\u3400-\u9fff\uf900-\ufaff々〆]/g;

let tokenizer: KuromojiTokenizer | null = null;
let loading: Promise<KuromojiTokenizer> | null = null;

/** Builds kuromoji's tokenizer once (later calls share it). */
export function loadReadings(): Promise<void> {
  loading ??= new Promise<KuromojiTokenizer>((resolve, reject) => {
    const require = createRequire(import.meta.url);
    const main = require.resolve('kuromoji');
    const kuromoji = require('kuromoji') as { builder(o: { dicPath: string }): { build(cb: (err: Error | null, t: KuromojiTokenizer) => void): void } };
    // The dictionary ships in the package, next to its src/ folder.
    kuromoji.builder({ dicPath: join(dirname(main), '..', 'dict') }).build((err, t) => (err ? reject(err) : resolve(t)));
  }).then((t) => { tokenizer = t; return t; });
  return loading.then(() => undefined);
}

export function readingsLoaded(): boolean {
  return tokenizer !== null;
}

/** Does this text need a reading to be spoken (does it hold Japanese)? */
export function needsReading(text: string): boolean {
  return JAPANESE.test(text);
}

/** The katakana reading of a line (sync; null until loadReadings() has finished, or for non-Japanese text). */
export function readingOf(text: string): string | null {
  if (!tokenizer || !needsReading(text)) return null;
  let out = '';
  for (const t of tokenizer.tokenize(text)) {
    const p = t.pronunciation && t.pronunciation !== '*' ? t.pronunciation : t.reading && t.reading !== '*' ? t.reading : t.surface_form;
    out += p;
  }
  return out.replace(HAN, '');
}

/** Line cue parameters with the reading added where the line is Japanese and the reading is known. */
export function withReading<P extends { text: string }>(params: P): P & { reading?: string } {
  const reading = readingOf(params.text);
  return reading && reading !== params.text ? { ...params, reading } : params;
}

/** Does a show have anyone speaking Japanese (then the hub loads readings at start)? */
export function showNeedsReadings(show: { cast: readonly { language?: string | undefined; name: string }[] }): boolean {
  return show.cast.some((c) => c.language?.toLowerCase().startsWith('ja') || JAPANESE.test(c.name));
}
