/**
 * The parts of a streamed line are spoken in order, each as soon as the part before it ends: the
 * hub sends each part the moment its model has written it, often while the part before is still
 * being spoken, and the node holds it until then (so the parts join without the cue lead between
 * them). A part with no earlier part of its line in progress starts at once.
 */
import type { Part } from './line-parts.ts';

export class PartOrder {
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Takes the part's place in its line: `before` resolves when the part before it is over (or
   * the signal aborts), and `done()` must be called when this part is over.
   */
  enter(part: Part, signal: AbortSignal): { before: Promise<void>; done: () => void } {
    const prior = this.tails.get(part.line);
    let done!: () => void;
    const mine = new Promise<void>((r) => { done = r; });
    if (part.last) this.tails.delete(part.line);
    else this.tails.set(part.line, mine);
    // A line whose last part never comes is forgotten once the map holds a few others.
    if (this.tails.size > 16) this.tails.delete(this.tails.keys().next().value!);
    const before = !prior ? Promise.resolve() : new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
      void prior.then(resolve);
    });
    return { before, done };
  }
}
