/**
 * Performing a line while the model is still writing it (streaming to the stage). Each chunk
 * (stream-clause.ts) goes to the performer the moment it is written, as the next part of one
 * line; the performer (the node: edge/cue-executor.ts, or the simulated stage) speaks the parts
 * in order, each as soon as the one before it ends, so they join without a gap whenever the model
 * keeps ahead of the voice. Records when the line started and ended, what was said, and the
 * longest silence between two parts: dead air inside a line counts like dead air between lines.
 */
import type { Character } from './character.ts';
import type { EnsembleClock } from './clock.ts';
import type { Performer } from './performer.ts';
import type { LineChunk } from './stream-clause.ts';
import { normalizeEmotion, type Emotion } from './emotion.ts';

export interface StreamedResult { startedAt: number; endedAt: number; spoken: string; parts: number; midLineGapMs: number }

export class StreamedLine {
  private readonly parts: Promise<{ startedAt: number; endedAt: number } | null>[] = [];
  private readonly texts: string[] = [];
  private closed = false;

  constructor(private readonly d: { clock: EnsembleClock; performer: Performer; character: Character; scene: string; id: string; gesture?: string; signal?: AbortSignal }) {}

  get gesture(): string | undefined { return this.d.gesture; }

  /** Sends a chunk as the next part (the first carries the gesture). */
  push(c: LineChunk): void {
    if (this.closed) return;
    this.send(c.text, c.last, { emotion: normalizeEmotion(c.emotion) ?? 'neutral', intensity: c.intensity, ...(c.gesture ? { gesture: c.gesture } : {}) });
  }

  private send(text: string, last: boolean, voice: { emotion: Emotion; intensity: number; gesture?: string }): void {
    const { performer, character, scene, id, gesture, signal } = this.d;
    const index = this.parts.length;
    this.texts.push(text);
    if (last) this.closed = true;
    const p = performer.perform({
      character, turn: { speaker: character.id, line: text, ...voice }, ...(index === 0 && gesture ? { gesture } : {}), scene, part: { line: id, index, last },
    }, signal);
    // A part cut short (the scene stopped) ends the line where it is.
    this.parts.push(p.catch(() => null));
  }

  /**
   * The whole turn is written: sends what of its line is still unsaid as the last part (nothing
   * when the turn is not the line begun, e.g. a fallback: the line ends where it is) and waits
   * for the voice to finish.
   */
  async finish(turn: { line: string; emotion: Emotion; intensity: number }): Promise<StreamedResult> {
    if (!this.closed && !this.d.signal?.aborted) {
      let at = 0;
      for (const t of this.texts) {
        const i = turn.line.indexOf(t, at);
        if (i < 0) { at = -1; break; }
        at = i + t.length;
      }
      const rest = at >= 0 ? turn.line.slice(at).trim() : '';
      if (rest) this.send(rest, true, { emotion: turn.emotion, intensity: turn.intensity });
      this.closed = true;
    }
    const done = await Promise.all(this.parts);
    const heard = done.filter((x): x is { startedAt: number; endedAt: number } => x !== null);
    let gap = 0;
    for (let i = 1; i < heard.length; i++) gap = Math.max(gap, heard[i]!.startedAt - heard[i - 1]!.endedAt);
    const now = heard.at(-1)?.endedAt ?? this.d.clock.now();
    return { startedAt: heard[0]?.startedAt ?? now, endedAt: now, spoken: this.texts.slice(0, Math.max(1, heard.length)).join(' '), parts: heard.length, midLineGapMs: gap };
  }
}
