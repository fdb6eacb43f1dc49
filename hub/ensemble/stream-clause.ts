/**
 * Reads a constrained turn as it streams and cuts its line into speakable chunks as soon as they
 * are written (streamed turns are asked line-first, right after the speaker; the emotion label
 * that follows the line reaches the record, not the voice). A chunk ends at a short natural break:
 * punctuation (. ! ? ; : , … and Japanese 。！？、) once a little text follows it, at least a few
 * words in, so a stage never hears a one-word fragment; or, in a clause that runs on, after a few
 * words (never inside a Japanese clause: its reading would break). The last chunk is the rest of
 * the line, the moment its closing quote is written (the fields after it do not hold the voice).
 */
import type { CompletionRequest, TextBackend } from './backend.ts';
import { abortError } from './backend.ts';
import { inferEmotion } from './emotion.ts';

/** A speakable piece of a line being written; `last` when the line is complete with it. */
export interface LineChunk { text: string; index: number; last: boolean; emotion: string; intensity: number; gesture?: string }

const MIN_CLAUSE_CHARS = 12;
const MIN_CLAUSE_CHARS_CJK = 5;
/** A clause that runs on is cut after this many words (the first chunk sooner: it ends the silence). */
const RUN_ON_WORDS_FIRST = 4;
const RUN_ON_WORDS = 6;

/** The first clause of a (partial) line, or null while none is complete. */
export function firstClause(partial: string): string | null {
  const cjk = /[\u3040-\u30ff\u3400-\u9fff]/.test(partial.slice(0, 8));
  const re = cjk ? /[。！？、…!?]/g : /[.!?;:,…](?=\s+\S)/g;
  const min = cjk ? MIN_CLAUSE_CHARS_CJK : MIN_CLAUSE_CHARS;
  for (let m = re.exec(partial); m; m = re.exec(partial)) {
    const end = m.index + m[0].length;
    // Japanese punctuation needs one more character after it (the clause might continue "…」").
    if (cjk && end >= partial.length) return null;
    if (end >= min) return partial.slice(0, end).trim();
  }
  return null;
}

/** Fields of a partial JSON turn; the line's text so far once the line has begun. */
export function partialTurn(raw: string): { emotion?: string; intensity?: number; gesture?: string; line?: string } {
  const emotion = /"emotion"\s*:\s*"([^"\\]+)"/.exec(raw)?.[1];
  const intensity = /"intensity"\s*:\s*([0-9.]+)\s*[,}]/.exec(raw)?.[1];
  const gesture = /"gesture"\s*:\s*"([^"\\]+)"/.exec(raw)?.[1];
  const line = /"line"\s*:\s*"((?:[^"\\]|\\.)*)/.exec(raw)?.[1];
  let text: string | undefined;
  if (line !== undefined) {
    // Undo JSON escapes on the part written so far (a dangling backslash waits for its pair).
    try { text = JSON.parse(`"${line.replace(/\\$/, '')}"`) as string; } catch { text = undefined; }
  }
  return { ...(emotion ? { emotion } : {}), ...(intensity ? { intensity: Number(intensity) } : {}), ...(gesture && gesture !== 'none' ? { gesture } : {}), ...(text !== undefined ? { line: text } : {}) };
}

/**
 * The next speakable chunk at the start of `pending` (text of the line not yet spoken), or null:
 * the first clause if one is complete, else, in a run-on clause, its first few words.
 */
export function nextChunk(pending: string, first: boolean): string | null {
  const clause = firstClause(pending);
  if (clause) return clause;
  if (/[\u3040-\u30ff\u3400-\u9fff]/.test(pending.slice(0, 8))) return null;
  const words = first ? RUN_ON_WORDS_FIRST : RUN_ON_WORDS;
  // Whole words only: the n-th word counts once a space follows it and more text follows that.
  const m = new RegExp(`^\\s*(?:\\S+\\s+){${words}}(?=\\S)`).exec(pending);
  return m && m[0].trim().length >= MIN_CLAUSE_CHARS ? m[0].trim() : null;
}

/** The line's text once its closing quote has been written, else null. */
export function closedLine(raw: string): string | null {
  const m = /"line"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(raw);
  if (!m) return null;
  try { return JSON.parse(`"${m[1]}"`) as string; } catch { return null; }
}

/** Cuts a streaming answer's line into chunks as it grows (feed it the whole answer so far). */
export class LineChunker {
  private spoken = 0; // characters of the line already given out
  private index = 0;
  private done = false;
  private voice: { emotion: string; intensity: number; gesture?: string } | undefined;

  /** The chunks that became speakable with this much of the answer written. */
  feed(raw: string): LineChunk[] {
    if (this.done) return [];
    const t = partialTurn(raw);
    if (t.line === undefined) return [];
    const closed = closedLine(raw);
    const line = closed ?? t.line;
    const out: LineChunk[] = [];
    for (;;) {
      const pending = line.slice(this.spoken);
      const text = nextChunk(pending, this.index === 0);
      if (!text) break;
      this.spoken += pending.indexOf(text) + text.length;
      out.push(this.chunk(text, false, t, line));
    }
    // A line that closes before its first chunk is complete is not streamed: it goes whole.
    if (closed !== null && this.index > 0) {
      const rest = closed.slice(this.spoken).trim();
      this.done = true;
      if (rest) out.push(this.chunk(rest, true, t, closed));
      else if (out.length) out[out.length - 1]!.last = true;
    }
    return out;
  }

  private chunk(text: string, last: boolean, t: ReturnType<typeof partialTurn>, line: string): LineChunk {
    // Written before its label (line-first streaming): the first words give the emotion for the
    // whole line, so every part is spoken alike.
    this.voice ??= t.emotion ? { emotion: t.emotion, intensity: t.intensity ?? 0.6, ...(t.gesture ? { gesture: t.gesture } : {}) } : { ...inferEmotion(line) };
    return { text, index: this.index++, last, ...this.voice };
  }
}

/** Runs the completion to its end (like completeText), calling onChunk with each speakable chunk of the line. */
export async function readStreaming(backend: TextBackend, req: CompletionRequest, onChunk: (c: LineChunk) => void): Promise<string> {
  let out = '';
  const chunker = new LineChunker();
  for await (const piece of backend.complete(req)) {
    if (req.signal?.aborted) throw abortError(req.signal);
    out += piece;
    for (const c of chunker.feed(out)) onChunk(c);
  }
  if (req.signal?.aborted) throw abortError(req.signal);
  return out;
}
