/**
 * Motion by frame differencing: the share of pixels that changed by more than pixelDelta since the
 * previous frame, per region of a 3x3 grid. The strongest region above the threshold is reported.
 * Cheap enough for a Pi at 160x120, and it keeps no image, only counts.
 */
import type { GrayFrame } from './frames.ts';

export type Region = 'top-left' | 'top' | 'top-right' | 'left' | 'center' | 'right' | 'bottom-left' | 'bottom' | 'bottom-right';
export interface Motion { region: Region; strength: number }

const REGIONS: Region[] = ['top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom', 'bottom-right'];

export class MotionDetector {
  private prev: Buffer | null = null;

  /** threshold: share of a region's pixels (0..1) that must change; pixelDelta: gray levels. */
  constructor(private readonly threshold = 0.05, private readonly pixelDelta = 24) {}

  /** Feeds one frame; returns the motion seen since the previous one, or null. */
  push(f: GrayFrame): Motion | null {
    const prev = this.prev;
    this.prev = Buffer.from(f.data); // own copy: the source may reuse its buffer
    if (!prev || prev.length !== f.data.length) return null;
    const changed = new Array<number>(9).fill(0);
    const total = new Array<number>(9).fill(0);
    const { width: w, height: h, data } = f;
    for (let y = 0; y < h; y++) {
      const ry = Math.min(2, Math.floor((y * 3) / h));
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        const r = ry * 3 + Math.min(2, Math.floor((x * 3) / w));
        total[r]!++;
        if (Math.abs(data[i]! - prev[i]!) > this.pixelDelta) changed[r]!++;
      }
    }
    let best = -1;
    let strength = 0;
    for (let r = 0; r < 9; r++) {
      const s = total[r] ? changed[r]! / total[r]! : 0;
      if (s > strength) { strength = s; best = r; }
    }
    return best >= 0 && strength >= this.threshold ? { region: REGIONS[best]!, strength: Math.round(strength * 1000) / 1000 } : null;
  }
}
