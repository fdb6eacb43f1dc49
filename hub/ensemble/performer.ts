/** The stage an improvised scene is performed on, as the engine sees it (hub/ensemble/stage.ts: MQTT to nodes; sim-performer.ts: simulated). */
import type { Character } from './character.ts';
import type { Turn } from './turn.ts';

/** What performs turns: the hub's stage (MQTT to nodes) or a simulated one. */
export interface Performer {
  /**
   * Performs a line (and its gesture); resolves when it is over. The parts of a streamed line may
   * come before the part before them is over: they are spoken in order, each as soon as the one
   * before it ends.
   */
  perform(p: { character: Character; turn: Turn; gesture?: string; scene: string; part?: LinePart }, signal?: AbortSignal): Promise<{ startedAt: number; endedAt: number }>;
  /** Starts a short filler (a "think" gesture or a filler line); resolves when it started, with when it ends. */
  filler(p: { character: Character; scene: string }, signal?: AbortSignal): Promise<{ startedAt: number; endsAt: number; kind: 'gesture' | 'line' } | null>;
  /** The node gestures a character's node has (its capability manifest); null if unknown. */
  gestures(character: Character): readonly string[] | null;
}

/**
 * A streamed line is performed in parts, each speakable chunk as soon as the model wrote it
 * (streamed-line.ts). `line` ties the parts together (the transcript keeps one line); `last`
 * marks the final part.
 */
export interface LinePart { line: string; index: number; last: boolean }
