/** What an improvised scene leaves behind: one record a turn, and the scene's. */
import type { NextSpeaker } from './director.ts';
import type { ParseStatus } from './turn.ts';

export interface TurnRecord {
  index: number;
  speaker: string;
  line: string;
  emotion: string;
  intensity: number;
  gesture?: string;
  source: 'model' | 'must-say' | 'scripted' | 'fallback';
  reason: NextSpeaker['reason'];
  /** Parse outcome of the first model attempt (pass@1); absent when no model was asked. */
  firstStatus?: ParseStatus;
  firstRightSpeaker?: boolean;
  /** The first answer was one JSON object of the turn schema as given (constrained turns only). */
  firstStructural?: boolean;
  /** Performed in parts while it was being generated (streaming). */
  streamed?: boolean;
  /** Streamed lines: how many parts, and the longest silence between two of them (dead air inside the line). */
  parts?: number;
  midLineGapMs?: number;
  /** When the whole turn was written (streamed turns: later than startedAt). */
  readyAt?: number;
  attempts: number;
  genMs: number;
  deadAirMs: number;
  waitedMs: number;
  filler?: 'gesture' | 'line';
  beat?: string;
  startedAt: number;
  endedAt: number;
}

export interface ImprovRecord {
  scene: string;
  premise: string;
  onStage: string[];
  turns: TurnRecord[];
  beats: string[];
  beatsHit: string[];
  endedBy: 'beats' | 'max-turns' | 'max-minutes' | 'aborted';
  stats: Record<string, number>;
  startedAt: number;
  endedAt: number;
}
