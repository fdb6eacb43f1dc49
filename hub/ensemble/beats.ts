/**
 * The beat judge: did this line make the beat's goal happen? One judge for the stage (director.ts)
 * and the eval, in English and Japanese.
 *
 * A beat is credited only when the goal is met, never on a raw substring:
 * 1. the beat's own scripted line, as written, always meets it (the author wrote it for that);
 * 2. otherwise a keyword hint must be said as whole words (Intl.Segmenter boundaries: 月 inside
 *    the name 睦月 is not 月, "light" inside "lighthouse" is not "light"; character names are
 *    masked), not negated in its clause ("I never liked the ferry"), and the line must do what the
 *    goal asks: a goal that says "proposes" needs a proposal, "names the danger" a warning,
 *    "asks" a question, "decides/agrees" a commitment, "refuses" a refusal (read from the goal's
 *    verb, in either language; a goal with no such verb needs only the hint);
 * 3. a model's claim ("beat": "ferry") is a hint for nothing: it is judged like any line.
 * `judgeBeatWithModel` adds a model's yes/no on top of the lexical gate, for real backends.
 *
 *   judgeBeat(beat, line, { names }) → { hit, reason, keyword?, intent }
 */
import { findPhrase, nameSpans, scriptLanguage, type PhraseMatch } from './words.ts';
import { inferEmotion } from './emotion.ts';
import type { TextBackend } from './backend.ts';
import { completeText } from './backend.ts';

export interface BeatLike {
  id: string;
  /** What must happen, in words. */
  goal: string;
  /** Words or phrases that a line meeting the goal says (whole words). */
  keywords: readonly string[];
  line?: { character: string; text: string };
}

export type BeatIntent = 'propose' | 'warn' | 'ask' | 'decide' | 'refuse' | 'any';

export interface BeatVerdict {
  hit: boolean;
  /** Why, in words (for the journal, the eval and the tests). */
  reason: string;
  /** The hint that was said, when one was. */
  keyword?: string;
  intent: BeatIntent;
  how?: 'scripted' | 'keyword' | 'model';
}

export interface JudgeOptions {
  /** Names of the characters (on stage or in the cast): a hint inside a name is not said. */
  names?: readonly string[];
  /** The line's language ('ja', 'en', ...); default: from its script. */
  language?: string;
}

const GOAL_INTENT: [BeatIntent, RegExp][] = [
  ['refuse', /\b(refuses?|rejects?|declines?|says no)\b|断る|断わる|拒む|拒否|拒絶|反対する/i],
  ['propose', /\b(propos\w*|suggest\w*|offers?|recommends?|puts forward|pitches)\b|提案|勧める|すすめる|持ちかけ/i],
  ['warn', /\b(warns?|danger\w*|threat\w*|risks?|cautions?|fears?)\b|危険|危な|警告|注意を促|恐れ|心配/i],
  ['ask', /\b(asks?|questions?|wonders?|inquires?)\b|尋ね|訊|聞く|質問|問う|問い/i],
  ['decide', /\b(decides?|agrees?|commits?|accepts?|settles?|chooses?|resolves?)\b|決め|決断|決心|同意|賛成|合意|受け入れ/i],
];

/** What a goal asks the line to do, from its verb (either language). */
export function goalIntent(goal: string): BeatIntent {
  for (const [intent, re] of GOAL_INTENT) if (re.test(goal)) return intent;
  return 'any';
}

// Cues that a line does the act. English on words, Japanese on endings and set phrases.
const INTENT_CUES: Record<Exclude<BeatIntent, 'any'>, { en: RegExp; ja: RegExp }> = {
  propose: {
    en: /\b(let'?s|let us|we (should|could|can|take|use|try|go|cross|ride)|how about|what about|why not|i (propose|suggest|say we)|(^|[.!?]\s*)(take|use|try|cross|ride|follow)\b|our (best|only) (way|chance)|the way is)\b/i,
    ja: /(しよう|しましょう|ましょう|ようか|うか[。？?]|はどう|ではどう|どうだ|どうかな|どうです|提案|べきだ|べきです|いいんじゃない|手がある|(こう|そう|とう|ろう|おう|よう|もう|ぼう|ごう|ろう)(か|よ|ぜ|ね)?[。！!？?]?$)/m,
  },
  warn: {
    en: /\b(danger\w*|risk\w*|careful|unsafe|beware|watch out|deadly|drown\w*|flood\w*|too (fast|deep|high|dark|late)|afraid|fear|threat\w*|trap)\b/i,
    ja: /(危な|危険|気をつけ|気を付け|用心|溢れ|あふれ|増水|怖い|恐ろし|やばい|まずい|命取り|溺れ|罠|油断)/,
  },
  ask: { en: /\?/, ja: /([?？]|か[。]?$|の[。？]?$|だろうか)/m },
  decide: {
    en: /\b(we go|decided|settled|agreed|agree|i will|we will|yes|let'?s do|at once|it is decided|done|deal|so be it|i accept)\b/i,
    ja: /(決めた|決まり|決定|決まった|行くぞ|やるぞ|賛成|そうしよう|分かった|わかった|いいだろう|よし|承知|引き受け|任せ)/,
  },
  refuse: {
    en: /\b(no|never|won'?t|will not|refuse\w*|not going|i decline|forget it)\b/i,
    ja: /(嫌だ|いやだ|断る|お断り|行かない|しない|やらない|やめ|だめ|ダメ|無理)/,
  },
};

const NEGATION = {
  en: /\b(never|not|no|n't|don'?t|won'?t|nothing|neither|nor|hardly)\b|n't\b/i,
  // Japanese negates after the word: …じゃない, …ではない, …ません, …なかった, 嫌い. Not 危ない or
  // 少ない: a negative verb or adjective ending only (kana before ない).
  ja: /(じゃない|ではない|くない|ません|なかった|しない|できない|いない|らない|かない|がない|わない|たない|まない|ばない|さない|てない|ず[、。]|嫌い|きらい)/,
};

/** Splits a line into clauses, so a negation or an act is read where the hint is. */
function clauseAround(text: string, m: PhraseMatch): string {
  const seps = /[.!?;。！？…\n]/g;
  let start = 0;
  let end = text.length;
  for (let r = seps.exec(text); r; r = seps.exec(text)) {
    if (r.index < m.index) start = r.index + 1;
    else if (r.index >= m.end) { end = r.index + 1; break; }
  }
  return text.slice(start, end);
}

function negated(clause: string, m: PhraseMatch, clauseStart: number, lang: 'ja' | 'en'): boolean {
  if (lang === 'en') return NEGATION.en.test(clause.slice(0, m.index - clauseStart));
  return NEGATION.ja.test(clause.slice(m.end - clauseStart));
}

/** Does the line do what the intent asks? (Emotion helps for warnings: a fearful line warns.) */
export function lineDoes(intent: BeatIntent, line: string, language?: string): boolean {
  if (intent === 'any') return true;
  const lang = (language?.startsWith('ja') ? 'ja' : scriptLanguage(line));
  const cue = INTENT_CUES[intent];
  if (cue[lang].test(line.trim())) return true;
  if (intent === 'warn') return ['fear', 'worry'].includes(inferEmotion(line).emotion);
  if (intent === 'decide') return inferEmotion(line).emotion === 'determined';
  return false;
}

const normalise = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/** Judges one line against one beat, without a model. */
export function judgeBeat(beat: BeatLike, line: string, o: JudgeOptions = {}): BeatVerdict {
  const intent = goalIntent(beat.goal);
  if (beat.line && normalise(beat.line.text) === normalise(line)) {
    return { hit: true, reason: 'the beat\'s scripted line', intent, how: 'scripted' };
  }
  const lang = o.language?.startsWith('ja') ? 'ja' : scriptLanguage(line);
  const masked = nameSpans(line, o.names ?? []);
  let said: { keyword: string; m: PhraseMatch } | null = null;
  let negatedHint: string | null = null;
  for (const k of beat.keywords) {
    const m = findPhrase(line, k, { masked, ...(o.language ? { language: o.language } : {}) });
    if (!m) continue;
    const clause = clauseAround(line, m);
    const clauseStart = line.indexOf(clause);
    // A refusal is a negation by nature ("No, I will not take the ferry").
    if (intent !== 'refuse' && negated(clause, m, clauseStart, lang)) { negatedHint ??= k; continue; }
    said = { keyword: k, m };
    break;
  }
  if (!said) {
    return { hit: false, intent, reason: negatedHint ? `"${negatedHint}" is said but negated` : `no hint said as a whole word (${beat.keywords.join(', ')})` };
  }
  // The act is read around the hint, not in it: "増水" or "flood" alone does not make a warning.
  const rest = `${line.slice(0, said.m.index)}□${line.slice(said.m.end)}`;
  if (!lineDoes(intent, rest, o.language ?? lang)) {
    return { hit: false, intent, keyword: said.keyword, reason: `"${said.keyword}" is said, but the line does not ${intentWords[intent]}` };
  }
  return { hit: true, intent, keyword: said.keyword, how: 'keyword', reason: `"${said.keyword}" said${intent === 'any' ? '' : ` and the line does ${intentWords[intent]}`}` };
}

const intentWords: Record<BeatIntent, string> = {
  propose: 'propose it', warn: 'warn of it', ask: 'ask about it', decide: 'commit to it', refuse: 'refuse it', any: 'mention it',
};

/** The prompt for a model's yes/no on a beat (first line names the task, as every ensemble prompt does). */
export function beatJudgePrompt(beat: BeatLike, line: string): string {
  return [
    'Task: judge beat',
    `Goal: ${beat.goal}`,
    `Line: ${line}`,
    'Does this line make the goal happen? Answer yes or no.',
    'Answer:',
  ].join('\n');
}

/**
 * The lexical judge first (cheap, never credits a substring), then, where it credits, a model's
 * yes/no for meaning. A model that fails or answers neither yes nor no leaves the lexical verdict.
 */
export async function judgeBeatWithModel(backend: TextBackend, beat: BeatLike, line: string, o: JudgeOptions & { signal?: AbortSignal } = {}): Promise<BeatVerdict> {
  const lexical = judgeBeat(beat, line, o);
  if (!lexical.hit || lexical.how === 'scripted') return lexical;
  try {
    const answer = (await completeText(backend, { prompt: beatJudgePrompt(beat, line), maxTokens: 4, temperature: 0, stop: ['\n'], ...(o.signal ? { signal: o.signal } : {}) })).trim().toLowerCase();
    if (/^(no|いいえ)/.test(answer)) return { ...lexical, hit: false, how: 'model', reason: `${lexical.reason}, but the model judged the goal not met` };
    if (/^(yes|はい)/.test(answer)) return { ...lexical, how: 'model', reason: `${lexical.reason}; the model agrees` };
  } catch { /* the lexical verdict stands */ }
  return lexical;
}
