/**
 * Reads a constrained turn as it streams and says as soon as its line has a first complete
 * clause (streamed turns are asked line-first, right after the speaker; the emotion label that
 * follows the line reaches the stage with the rest of it). A clause ends at punctuation
 * (. ! ? ; : , … and Japanese 。！？、) once a little text follows it, and is at least a few
 * words long, so a stage never hears a one-word fragment.
 */
import type { CompletionRequest, TextBackend } from './backend.ts';
import { abortError } from './backend.ts';
import { inferEmotion } from './emotion.ts';

export interface EarlyTurn { text: string; emotion: string; intensity: number; gesture?: string }

const MIN_CLAUSE_CHARS = 12;
const MIN_CLAUSE_CHARS_CJK = 5;

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

/** Runs the completion to its end (like completeText), calling onEarly once with the first clause. */
export async function readStreaming(backend: TextBackend, req: CompletionRequest, onEarly: (e: EarlyTurn) => void): Promise<string> {
  let out = '';
  let fired = false;
  for await (const chunk of backend.complete(req)) {
    if (req.signal?.aborted) throw abortError(req.signal);
    out += chunk;
    if (fired) continue;
    const t = partialTurn(out);
    const clause = t.line !== undefined ? firstClause(t.line) : null;
    if (clause) {
      fired = true;
      // Written before its label (line-first streaming): the words give the emotion until the label comes.
      const e = t.emotion ? { emotion: t.emotion, intensity: t.intensity ?? 0.6 } : inferEmotion(clause);
      onEarly({ text: clause, emotion: e.emotion, intensity: e.intensity, ...(t.gesture ? { gesture: t.gesture } : {}) });
    }
  }
  if (req.signal?.aborted) throw abortError(req.signal);
  return out;
}
