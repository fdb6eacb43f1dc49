/** Drains a backend's completion stream: the whole text, its pieces, and how it ended. */
import type { CompletionEnd } from '../../hub/llm/index.ts';

export async function collect(gen: AsyncGenerator<string, CompletionEnd | void>): Promise<{ text: string; pieces: string[]; end: CompletionEnd | void }> {
  const pieces: string[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { text: pieces.join(''), pieces, end: r.value };
    pieces.push(r.value);
  }
}
