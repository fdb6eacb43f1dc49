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

/** A label the stage knows, from whatever the model wrote ("Angry", "worried", "joy!"); null if none fits. */
export function normalizeEmotion(label: string | undefined | null): Emotion | null {
  if (!label) return null;
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

export function inferEmotion(text: string): { emotion: Emotion; intensity: number } {
  for (const [re, emotion, intensity] of LEXICON) if (re.test(text)) return { emotion, intensity };
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
