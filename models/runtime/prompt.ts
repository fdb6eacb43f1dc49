/**
 * Play-script prompts for ad-libbing. The default model was trained on one speech per line:
 * `NAME: text` (English, from Shakespeare) and `名前　台詞` (Japanese plays, full-width space).
 * So the prompt is the recent dialogue in that form, ending with the speaker's prefix, and
 * the model's continuation up to the newline is that character's line.
 */

export interface Character {
  name: string;
  /** A short description; written as a stage direction (small models mostly ignore it). */
  persona?: string;
}

/** Stop generation at the end of the line: pass as `stop` when generating an ad-lib. */
export const ADLIB_STOP: readonly string[] = ['\n'];

const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]/;

export function isJapaneseName(name: string): boolean {
  return JAPANESE.test(name);
}

/** `NAME: ` or `名前　` as the training data writes a speaker prefix. */
export function speakerPrefix(name: string): string {
  return isJapaneseName(name) ? `${name}\u3000` : `${name}: `;
}

/**
 * How a prompt ends to hand the turn to `name`. English ends at the colon, without the space:
 * byte-level BPE glues a space to the following word (" Ay"), so a prompt ending in a space
 * forces the model to start with a word fragment. The Japanese full-width space is a token of
 * its own in training, so it stays.
 */
export function speakerCue(name: string): string {
  return isJapaneseName(name) ? `${name}\u3000` : `${name}:`;
}

/** One speech as the model expects it (single line). */
export function formatLine(name: string, text: string): string {
  return speakerPrefix(name) + oneLine(text);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * @param context recent dialogue, oldest first, each already speaker-prefixed
 *   (e.g. `formatLine('JULIET', 'Ay me!')`); the runtime keeps the end if it is too long.
 */
export function adlibPrompt(character: Character, context: readonly string[]): string {
  const lines = context.map(oneLine).filter((l) => l.length > 0);
  if (character.persona) {
    const direction = isJapaneseName(character.name)
      ? `\u3000\u3000\u3000\u3000${character.name}、${oneLine(character.persona)}`
      : `[${character.name}, ${oneLine(character.persona)}]`;
    lines.push(direction);
  }
  return [...lines, speakerCue(character.name)].join('\n');
}

const SENTENCE_END = /[。！？!?.…]+[」』）)"']*/g;

/**
 * Cuts generated text down to the character's single line: up to the first newline, without a
 * repeated speaker prefix; if the line was cut off mid-sentence (token budget), back to the last
 * sentence end when that keeps at least a few characters. Returns '' when nothing usable is left.
 */
export function extractLine(generated: string, characterName: string): string {
  let line = generated.replace(/^[ \t\u3000]*\n?/, '').split('\n')[0] ?? '';
  for (const prefix of [speakerPrefix(characterName), `${characterName}:`, `${characterName}\u3000`]) {
    if (line.startsWith(prefix)) line = line.slice(prefix.length);
  }
  line = line.trim().replace(/^\u3000+/, '');
  let lastEnd = -1;
  for (const m of line.matchAll(SENTENCE_END)) lastEnd = m.index + m[0].length;
  if (lastEnd >= 4 && lastEnd < line.length) line = line.slice(0, lastEnd);
  return line.trim();
}
