/** Fixed lines, in turn: rehearsals, tests, and a show that must not improvise. */
import type { CompletionEnd, CompletionRequest, TextBackend } from './types.ts';

export class ScriptedBackend implements TextBackend {
  readonly name = 'scripted';
  private next = 0;
  constructor(private readonly lines: readonly string[]) {
    if (lines.length === 0) throw new Error('scripted backend needs at least one line');
  }

  async *complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd> {
    const line = this.lines[this.next++ % this.lines.length];
    // Stream word by word (spaces kept) so consumers see the same shape as a model stream;
    // a Japanese line (no spaces) streams by its segmenter words.
    const pieces = /[\u3040-\u30ff\u3400-\u9fff]/.test(line)
      ? [...new Intl.Segmenter('ja', { granularity: 'word' }).segment(line)].map((s) => s.segment)
      : line.match(/\s*\S+/g) ?? [line];
    let finishReason: CompletionEnd['finishReason'] = 'stop';
    let text = '';
    let emitted = 0;
    for (const [i, piece] of pieces.entries()) {
      if (req.signal?.aborted) break;
      if (i >= req.maxTokens) {
        finishReason = 'length';
        break;
      }
      text += piece;
      const stopAt = firstStop(text, req.stop);
      if (stopAt >= 0) {
        if (stopAt > emitted) yield text.slice(emitted, stopAt);
        return { finishReason: 'stop', completionTokens: i + 1 };
      }
      yield piece;
      emitted = text.length;
      await new Promise((r) => setImmediate(r)); // let cancellation and other work interleave
    }
    return { finishReason, completionTokens: Math.min(pieces.length, req.maxTokens) };
  }
}

function firstStop(text: string, stop: readonly string[] | undefined): number {
  let at = -1;
  for (const s of stop ?? []) {
    const i = s ? text.indexOf(s) : -1;
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}
