/**
 * How fast a servo move may be: one rule, used by the node when it plans a move (edge/motion.ts)
 * and by `kuroko validate` when it checks a show's motion cues against a profile.
 */
export type Easing = 'linear' | 'ease-in-out';

/** Peak speed over average speed of an easing: an eased move peaks at 1.5× its average speed. */
export const PEAK_SPEED_FACTOR: Record<Easing, number> = { linear: 1, 'ease-in-out': 1.5 };

/** The shortest time (ms) a move from → to may take without passing maxSpeed (°/s) at its peak. */
export function minMoveMs(from: number, to: number, maxSpeed: number, easing: Easing = 'ease-in-out'): number {
  return (Math.abs(to - from) / maxSpeed) * 1000 * PEAK_SPEED_FACTOR[easing];
}
