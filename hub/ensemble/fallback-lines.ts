/**
 * Fallback lines: what a character says when the model's turn failed or came too late, so the
 * stage never waits in silence. Short, in character by role, in the character's language.
 */
import type { Character } from './character.ts';
import type { Beat } from './director.ts';
import type { Turn } from './turn.ts';
import { inferEmotion } from './emotion.ts';
import { baseLanguage } from './words.ts';

const FALLBACK: Record<string, string[]> = {
  decision: ['Enough. We decide now.', 'I have heard enough. We act.', 'Then it is settled. Move.'],
  analysis: ['Let me weigh that once more.', 'The numbers do not lie. Careful.', 'Hm. That changes the odds.'],
  intelligence: ['I will find out more.', 'Wait, I heard something about that.', 'There is more to this. I can feel it.'],
  coordination: ['Let us hear each other out.', 'Steady, everyone. One at a time.', 'We are stronger together.'],
  other: ['Hm. Go on.', 'I am listening.', 'Say that again?'],
};

/** The same, for Japanese characters (original text). */
const FALLBACK_JA: Record<string, string[]> = {
  decision: ['もういい。今決める。', '話は十分聞いた。動くぞ。', 'それで決まりだ。行こう。'],
  analysis: ['もう一度だけ量らせて。', '数字は嘘をつかない。慎重に。', 'ふむ。それで見込みが変わる。'],
  intelligence: ['もっと調べてくる。', '待って、そのことで何か聞いた。', 'まだ何かある。そんな気がする。'],
  coordination: ['みんなの話を聞こう。', '落ち着いて、一人ずつ。', '一緒なら強くなれる。'],
  other: ['うん、続けて。', '聞いているよ。', 'もう一度言って？'],
};

/** The fallback line for a character whose model turn failed: the next beat's scripted line if it is theirs, else one from their role's bank. */
export function fallbackTurn(ch: Character, beat: Beat | null, n: number): Turn {
  if (beat?.line && beat.line.character === ch.id) {
    const e = inferEmotion(beat.line.text);
    return { speaker: ch.id, line: beat.line.text, emotion: e.emotion, intensity: e.intensity };
  }
  const banks = baseLanguage(ch.persona.language) === 'ja' ? FALLBACK_JA : FALLBACK;
  const bank = banks[ch.role ?? 'other'] ?? banks.other!;
  const line = bank[n % bank.length]!;
  const e = inferEmotion(line);
  return { speaker: ch.id, line, emotion: e.emotion, intensity: e.intensity };
}
