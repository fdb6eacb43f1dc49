/**
 * Dead air: the silence between the end of one performed line and the start of the next, in the
 * same scene (the pause between scenes is staging, not dead air). Overlapping lines count as none.
 */
import type { TranscriptLineT } from '../../protocol/index.ts';

export class DeadAirMeter {
  private last: { scene: string | null; endShowTime: number } | null = null;

  /** The gap before this line in ms, or null when there is no previous line in its scene. */
  next(line: Pick<TranscriptLineT, 'scene' | 'startShowTime' | 'durationMs'>): number | null {
    // A line outside any scene (a node covering for a silent hub) is not part of a scene's timing.
    if (line.scene === null) return null;
    const prev = this.last;
    const end = line.startShowTime + line.durationMs;
    const gap = prev && prev.scene === line.scene ? Math.max(0, line.startShowTime - prev.endShowTime) : null;
    this.last = { scene: line.scene, endShowTime: prev && prev.scene === line.scene ? Math.max(prev.endShowTime, end) : end };
    return gap;
  }
}
