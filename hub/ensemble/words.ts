/**
 * Words in any stage language. Japanese has no spaces, so "does this line say X" and "is this
 * line a repeat" cannot be answered on raw substrings (月 sits inside the name 睦月); English
 * needs whole words too ("light" is not in "lighthouse"). Intl.Segmenter (ICU's dictionary, in
 * Node itself: no extra memory, synchronous) gives the word boundaries for both languages.
 */

/** 'ja' when the text holds kana or kanji, else 'en' (enough to pick a segmenter and a lexicon). */
export function scriptLanguage(text: string): 'ja' | 'en' {
  return /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(text) ? 'ja' : 'en';
}

/** The base language of a BCP 47 tag ('ja-JP' → 'ja'); undefined stays undefined. */
export function baseLanguage(tag: string | undefined): string | undefined {
  return tag ? tag.toLowerCase().split(/[-_]/)[0] : undefined;
}

/** True for languages written without spaces between words (lengths and repeats count characters). */
export function isCharLanguage(tag: string | undefined): boolean {
  return ['ja', 'zh', 'th', 'lo', 'km', 'my'].includes(baseLanguage(tag) ?? '');
}

const segmenters = new Map<string, Intl.Segmenter>();
function segmenter(lang: string): Intl.Segmenter {
  let s = segmenters.get(lang);
  if (!s) { s = new Intl.Segmenter(lang, { granularity: 'word' }); segmenters.set(lang, s); }
  return s;
}

export interface WordSpan { word: string; index: number; end: number }

/** The word-like segments of a text, with where they are (ICU word boundaries). */
export function wordSpans(text: string, language?: string): WordSpan[] {
  const lang = baseLanguage(language) ?? scriptLanguage(text);
  const out: WordSpan[] = [];
  for (const s of segmenter(lang).segment(text)) {
    if (s.isWordLike) out.push({ word: s.segment, index: s.index, end: s.index + s.segment.length });
  }
  return out;
}

/** The words of a text, lower-cased. */
export function words(text: string, language?: string): string[] {
  return wordSpans(text, language).map((w) => w.word.toLowerCase());
}

/** A light English stem (plural, -ed, -ing) so "ferries"/"ferry" and "lights"/"light" meet; other scripts unchanged. */
export function stem(word: string): string {
  const w = word.toLowerCase().replace(/['’]s$/, '');
  if (!/^[a-z]+$/.test(w) || w.length <= 4) return w;
  if (w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.endsWith('ing') && w.length > 5) return w.slice(0, -3);
  if (w.endsWith('ed') && w.length > 4) return w.slice(0, -2);
  if (w.endsWith('es') && /(ches|shes|sses|xes|zes)$/.test(w)) return w.slice(0, -2);
  if (w.endsWith('s') && !w.endsWith('ss')) return w.slice(0, -1);
  return w;
}

export interface PhraseMatch { index: number; end: number }

/**
 * Where `phrase` occurs in `text` as whole words: every match starts and ends on a word boundary
 * and covers only whole words. English words compare by stem (case-insensitive); text in other
 * scripts compares exactly. Spans in `masked` (e.g. character names) never match unless the
 * phrase is that whole span.
 */
export function findPhrase(text: string, phrase: string, o: { language?: string; masked?: readonly PhraseMatch[] } = {}): PhraseMatch | null {
  const p = phrase.trim();
  if (!p) return null;
  const spans = wordSpans(text, o.language ?? scriptLanguage(`${text}${p}`));
  const inMask = (m: PhraseMatch) => (o.masked ?? []).some((k) => m.index < k.end && m.end > k.index && !(m.index === k.index && m.end === k.end));
  if (scriptLanguage(p) === 'en') {
    const want = wordSpans(p, 'en').map((w) => stem(w.word));
    if (!want.length) return null;
    for (let i = 0; i + want.length <= spans.length; i++) {
      if (want.every((w, j) => stem(spans[i + j]!.word) === w)) {
        const m = { index: spans[i]!.index, end: spans[i + want.length - 1]!.end };
        if (!inMask(m)) return m;
      }
    }
    return null;
  }
  // Unspaced scripts: the phrase as written, starting and ending exactly on word boundaries.
  const starts = new Set(spans.map((s) => s.index));
  const ends = new Set(spans.map((s) => s.end));
  const hay = text.toLowerCase();
  const needle = p.toLowerCase();
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) {
    const m = { index: at, end: at + needle.length };
    if (starts.has(m.index) && ends.has(m.end) && !inMask(m)) return m;
  }
  return null;
}

/** Every place one of `names` is said in `text` as whole words (for masking and for addressing). */
export function nameSpans(text: string, names: readonly string[], language?: string): PhraseMatch[] {
  const out: PhraseMatch[] = [];
  for (const n of names) {
    if (!n.trim()) continue;
    const spans = wordSpans(text, language);
    const hay = text.toLowerCase();
    const needle = n.toLowerCase();
    const starts = new Set(spans.map((s) => s.index));
    const ends = new Set(spans.map((s) => s.end));
    for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) {
      // A name is a name even where the segmenter splits it (e.g. 睦月 → 睦|月 in some contexts): boundaries at its edges only.
      if ((at === 0 || starts.has(at) || !/[\p{L}\p{N}]/u.test(hay[at - 1]!)) && (ends.has(at + needle.length) || !/[\p{L}\p{N}]/u.test(hay[at + needle.length] ?? ' '))) {
        out.push({ index: at, end: at + needle.length });
      }
    }
  }
  return out.sort((a, b) => a.index - b.index);
}

/** Character n-grams of a text without spaces or punctuation (for repeats in unspaced scripts). */
export function charNgrams(text: string, n = 2): Set<string> {
  const chars = [...text.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')];
  const out = new Set<string>();
  for (let i = 0; i + n <= chars.length; i++) out.add(chars.slice(i, i + n).join(''));
  return out;
}

/** Length of a line as a reader counts it: characters for unspaced scripts (code points), else characters too, but never UTF-16 units. */
export function charLength(text: string): number {
  return [...text].length;
}
