/**
 * What a character's language means for the writing: the name of the language in the prompt,
 * how long a line may be (characters for Japanese, where a character is about a syllable), and
 * when two lines are the same line (words for English, character n-grams for Japanese).
 */
import { baseLanguage, charNgrams, isCharLanguage, scriptLanguage } from './words.ts';
import { keywords } from './memory.ts';

const NAMES: Record<string, { english: string; native: string }> = {
  en: { english: 'English', native: 'English' },
  ja: { english: 'Japanese', native: '日本語' },
};

/** "Japanese (日本語)" for 'ja'; the code itself for a language we have no name for. */
export function languageName(tag: string | undefined): string {
  const n = NAMES[baseLanguage(tag) ?? 'en'];
  if (!n) return tag ?? 'English';
  return n.english === n.native ? n.english : `${n.english} (${n.native})`;
}

/**
 * The longest line the stage takes, in characters. English 240 (about 15 s at 64 ms a character);
 * Japanese 80 (a kanji reads as one to three kana at about 130 ms each: 10–20 s).
 */
export function maxLineChars(tag: string | undefined): number {
  return isCharLanguage(tag) ? 80 : 240;
}

/** The prompt's length advice for one line. */
export function lineLengthAdvice(tag: string | undefined): string {
  return isCharLanguage(tag) ? `one or two short sentences, at most ${maxLineChars(tag)} characters` : 'one or two short sentences';
}

/** Cuts a line to `max` characters at the last sentence end that fits (。！？ or ". "), else at a word, with "…". */
export function truncateAtSentence(t: string, max: number): string {
  const chars = [...t];
  if (chars.length <= max) return t;
  const head = chars.slice(0, max).join('');
  if (scriptLanguage(t) === 'ja') {
    const end = Math.max(head.lastIndexOf('。'), head.lastIndexOf('！'), head.lastIndexOf('？'), head.lastIndexOf('!'), head.lastIndexOf('?'));
    return end >= 8 ? head.slice(0, end + 1) : `${[...head].slice(0, max - 1).join('')}…`;
  }
  const end = Math.max(head.lastIndexOf('. '), head.lastIndexOf('! '), head.lastIndexOf('? '));
  return end > 20 ? head.slice(0, end + 1) : head.replace(/\s+\S*$/, '') + '…';
}

/**
 * Is `line` a repeat of `earlier`? Exactly the same words; or, in English, ≥ 80 % of the content
 * words shared (Jaccard, three words at least); in Japanese, ≥ 60 % of the character bigrams
 * shared (Jaccard, four bigrams at least: a sentence there is one "word" between spaces).
 */
export function isRepeatOf(line: string, earlier: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N} ]/gu, '').replace(/\s+/g, ' ').trim();
  if (norm(line) === norm(earlier)) return true;
  if (scriptLanguage(line) === 'ja' || scriptLanguage(earlier) === 'ja') return jaccard(charNgrams(line, 2), charNgrams(earlier, 2), 4) >= 0.6;
  return jaccard(keywords(line), keywords(earlier), 3) >= 0.8;
}

function jaccard(a: Set<string>, b: Set<string>, min: number): number {
  if (a.size < min || b.size < min) return 0;
  let both = 0;
  for (const x of a) if (b.has(x)) both++;
  return both / (a.size + b.size - both);
}
