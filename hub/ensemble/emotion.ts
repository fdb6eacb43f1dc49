/**
 * Emotion labels. Every improvised turn carries one of these plus an intensity 0..1; the node
 * shows it on its eye LEDs (edge/emotion-colors.ts has the same names) and it steers the gesture.
 * The hub keeps its own copy because hub and edge never import each other.
 */
export const EMOTIONS = [
  'neutral', 'joy', 'calm', 'trust', 'determined', 'anger', 'fear', 'worry', 'sadness', 'surprise', 'curious', 'warmth',
] as const;
export type Emotion = (typeof EMOTIONS)[number];

const SYNONYMS: Record<string, Emotion> = {
  happy: 'joy', glad: 'joy', delighted: 'joy', excited: 'joy', cheerful: 'joy', amused: 'joy', relieved: 'calm',
  serene: 'calm', peaceful: 'calm', composed: 'calm', confident: 'determined', resolute: 'determined', resolved: 'determined', firm: 'determined', bold: 'determined',
  angry: 'anger', furious: 'anger', annoyed: 'anger', irritated: 'anger', frustrated: 'anger',
  afraid: 'fear', scared: 'fear', terrified: 'fear', anxious: 'worry', worried: 'worry', nervous: 'worry', concerned: 'worry', uneasy: 'worry',
  sad: 'sadness', unhappy: 'sadness', grief: 'sadness', sorrow: 'sadness', melancholy: 'sadness',
  surprised: 'surprise', shocked: 'surprise', astonished: 'surprise', amazed: 'surprise',
  curiosity: 'curious', intrigued: 'curious', interested: 'curious', inquisitive: 'curious',
  trusting: 'trust', loyal: 'trust', reassuring: 'trust', supportive: 'trust',
  warm: 'warmth', kind: 'warmth', tender: 'warmth', affectionate: 'warmth', gentle: 'warmth',
  determination: 'determined', joyful: 'joy', fearful: 'fear', calmness: 'calm', none: 'neutral', flat: 'neutral',
};

/** Japanese labels (what a Japanese prompt or model writes) → the stage's emotion. */
const JA_LABELS: Record<string, Emotion> = {
  中立: 'neutral', 普通: 'neutral', 平常: 'neutral', 無表情: 'neutral', なし: 'neutral', ふつう: 'neutral',
  喜び: 'joy', よろこび: 'joy', 嬉しい: 'joy', うれしい: 'joy', 楽しい: 'joy', 歓喜: 'joy', 幸せ: 'joy', 喜: 'joy', 楽しさ: 'joy',
  落ち着き: 'calm', 冷静: 'calm', 穏やか: 'calm', 平静: 'calm', 安心: 'calm', 静けさ: 'calm',
  信頼: 'trust', 信用: 'trust', 安堵: 'calm',
  決意: 'determined', 決心: 'determined', 覚悟: 'determined', 断固: 'determined', 意志: 'determined',
  怒り: 'anger', いかり: 'anger', 怒: 'anger', 激怒: 'anger', 苛立ち: 'anger', いらだち: 'anger', 憤り: 'anger',
  恐れ: 'fear', おそれ: 'fear', 恐怖: 'fear', 怖い: 'fear', 怯え: 'fear', おびえ: 'fear',
  不安: 'worry', 心配: 'worry', 懸念: 'worry', 焦り: 'worry', 緊張: 'worry',
  悲しみ: 'sadness', かなしみ: 'sadness', 悲しい: 'sadness', 哀しみ: 'sadness', 寂しさ: 'sadness', 寂しい: 'sadness', 悲哀: 'sadness',
  驚き: 'surprise', おどろき: 'surprise', 驚く: 'surprise', びっくり: 'surprise', 驚愕: 'surprise',
  好奇心: 'curious', 興味: 'curious', 不思議: 'curious', 疑問: 'curious',
  温かさ: 'warmth', あたたかさ: 'warmth', 優しさ: 'warmth', やさしさ: 'warmth', 親しみ: 'warmth', 愛情: 'warmth', 感謝: 'warmth', 思いやり: 'warmth',
};

/** A label the stage knows, from whatever the model wrote ("Angry", "worried", "joy!", "怒り", "不安"); null if none fits. */
export function normalizeEmotion(label: string | undefined | null): Emotion | null {
  if (!label) return null;
  const ja = label.replace(/[^\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}ー]/gu, '');
  if (ja) return JA_LABELS[ja] ?? JA_LABELS[ja.replace(/(さ|み|な|だ|です)$/, '')] ?? null;
  const k = label.toLowerCase().replace(/[^a-z]/g, '');
  if ((EMOTIONS as readonly string[]).includes(k)) return k as Emotion;
  return SYNONYMS[k] ?? null;
}

/** Cue words → emotion, for lines that arrive without a usable label (and for the eval baseline). */
const LEXICON: [RegExp, Emotion, number][] = [
  [/\b(no!|never|how dare|enough|stop it|damn|fools?|liar|betray\w*)\b|!{2,}/i, 'anger', 0.8],
  [/\b(afraid|terrif\w*|run!|dark|danger\w*|die|dead|trap|monster|scream\w*|help!?)\b/i, 'fear', 0.7],
  [/\b(risk\w*|careful|what if|odds|worr\w*|unsafe|doubt|too fast|flood\w*|i fear)\b/i, 'worry', 0.6],
  [/\b(sorry|lost|miss (him|her|them)|gone|tears?|alone|grief|mourn\w*)\b/i, 'sadness', 0.6],
  [/\b(what\?|really\?|impossible|can't be|look!|suddenly|wait[,.!]|oh!)/i, 'surprise', 0.7],
  [/\b(why|how|who|where|wonder|tell me|i heard|rumou?r\w*|curious|strange)\b/i, 'curious', 0.5],
  [/\b(we go|now\.|let'?s go|i will|we will|must|decid\w*|tonight|act|commit\w*|bold|move out|no more waiting)\b/i, 'determined', 0.7],
  [/\b(together|trust|believe in|with you|count on|promise|agreed?)\b/i, 'trust', 0.5],
  [/\b(thank\w*|friend\w*|dear|care|warm\w*|welcome|love)\b/i, 'warmth', 0.5],
  [/\b(ha(ha)+|wonderful|great|splendid|hooray|yes!|we did it|glad|happy)\b/i, 'joy', 0.7],
  [/\b(breathe|calm|easy|steady|quiet|sit|slowly|peace|fine)\b/i, 'calm', 0.4],
];

/**
 * The same cues in Japanese, matched on the text as written (original patterns: interjections,
 * set phrases, verb endings). Order matters as above: "大丈夫かな" is worry before "大丈夫" is calm.
 */
const JA_LEXICON: [RegExp, Emotion, number][] = [
  [/(ふざけるな|ふざけんな|許さない|許せない|黙れ|いい加減に|何様|裏切|嘘つき|馬鹿|バカ|うるさい|腹が立|冗談じゃない|頭にくる|よくも|[！!]{2,})/, 'anger', 0.8],
  [/(怖い|こわい|恐ろし|助けて|逃げろ|逃げて|死ぬ|死んで|化け物|震え|ひっ|来るな|いやだ、|足がすく)/, 'fear', 0.7],
  [/(大丈夫かな|大丈夫だろうか|心配|不安|危険|危な|気をつけ|気を付け|間に合うか|まずい|どうしよう|嫌な予感|増水|溢れ|もし.{1,12}たら|無茶)/, 'worry', 0.6],
  [/(ごめん|すまない|申し訳|悲し|寂し|さびし|涙|泣|もういない|失った|亡くな|ひとりぼっち|一人ぼっち|会いたい|戻らない)/, 'sadness', 0.6],
  [/(えっ|まさか|本当に[？?]|ほんとに[？?]|嘘でしょ|うそでしょ|なんだって|驚|急に|見て[！!]|あれは[！!]|信じられない)/, 'surprise', 0.7],
  [/(なぜ|なんで|どうして|誰が|だれが|どこ|何が|なにが|どうやって|気になる|不思議|聞いた話|噂|うわさ|知りたい|教えて)/, 'curious', 0.5],
  [/(行くぞ|やるぞ|決めた|今すぐ|今夜|必ず|絶対に|やってみせ|覚悟|もう待たない|行こう|やろう|出発だ|迷わない)/, 'determined', 0.7],
  [/(一緒に|いっしょに|信じ|任せ|頼りに|約束|味方|ついていく|賛成)/, 'trust', 0.5],
  [/(ありがとう|友達|仲間|大切|おかえり|ようこそ|好きだ|愛して|温か|あたたか|会えてよかった)/, 'warmth', 0.5],
  [/(やった|嬉し|うれし|楽し|最高|素晴らし|すごい|わーい|ははは|あはは|よかった)/, 'joy', 0.7],
  [/(落ち着いて|ゆっくり|深呼吸|静か|大丈夫|穏やか|焦らず|座って|ひと息|一息)/, 'calm', 0.4],
];

export function inferEmotion(text: string): { emotion: Emotion; intensity: number } {
  const lexicon = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(text) ? JA_LEXICON : LEXICON;
  for (const [re, emotion, intensity] of lexicon) if (re.test(text)) return { emotion, intensity };
  return { emotion: 'neutral', intensity: 0.3 };
}

/** The emotion a turn is performed with: the model's label when it is one we know, else inferred from the words. */
export function resolveEmotion(label: string | undefined, intensity: number | undefined, text: string): { emotion: Emotion; intensity: number; inferred: boolean } {
  const e = normalizeEmotion(label);
  const i = typeof intensity === 'number' && Number.isFinite(intensity) ? Math.min(1, Math.max(0, intensity)) : undefined;
  if (e) return { emotion: e, intensity: i ?? 0.6, inferred: false };
  const inf = inferEmotion(text);
  return { emotion: inf.emotion, intensity: i ?? inf.intensity, inferred: true };
}

/** The gesture that fits an emotion, as a semantic name a character maps to its node's gestures. */
export const EMOTION_GESTURE: Partial<Record<Emotion, string>> = {
  determined: 'nod', trust: 'nod', warmth: 'nod', calm: 'nod',
  anger: 'shake', fear: 'shake', worry: 'shake', sadness: 'shake',
  curious: 'point', surprise: 'point',
};
