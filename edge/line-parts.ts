/**
 * A line streamed in parts (the hub sends each clause as its model writes it) is spoken part by
 * part but journaled once: the parts are held here and the transcript gets one line, with the
 * whole text, the first part's start and cue, and the summed duration, when the last part is
 * spoken. A line whose last part never comes (the scene stopped, the hub fell back) is flushed
 * when the next line starts, so nothing spoken is lost from the transcript.
 */
import type { TranscriptLineT } from '../protocol/index.ts';

type Line = Omit<TranscriptLineT, 'v' | 'ts' | 'node'>;
export interface Part { line: string; index: number; last: boolean }

export class LineParts {
  private pending: { id: string; line: Line } | null = null;
  constructor(private readonly publish: (line: Line) => void) {}

  /** Called for every spoken line; publishes whatever transcript lines are now complete. */
  spoken(line: Line, part?: Part): void {
    if (!part) {
      this.flush();
      this.publish(line);
      return;
    }
    if (this.pending && this.pending.id !== part.line) this.flush();
    if (!this.pending) this.pending = { id: part.line, line: { ...line } };
    else this.pending.line = { ...this.pending.line, text: `${this.pending.line.text} ${line.text}`, durationMs: this.pending.line.durationMs + line.durationMs };
    if (part.last) this.flush();
  }

  flush(): void {
    const p = this.pending;
    this.pending = null;
    if (p) this.publish(p.line);
  }
}
