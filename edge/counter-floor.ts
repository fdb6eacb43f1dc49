/**
 * The highest signed-message counter this node accepted, kept on disk so that a restart does not
 * open a window for replays: a control message captured before the restart (a signed `arm`, a cue,
 * heartbeats) is refused after it, as it was before. Written atomically, at most once every
 * `everyMs` and on stop (a heartbeat at 10 Hz must not mean 10 writes a second); the few messages
 * accepted in the last interval before a crash are the only ones a replay could still use once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { defaultVarDir } from './estop-input.ts';

export function defaultCounterFloorFile(show: string, node: string, varDir = defaultVarDir()): string {
  return join(varDir, 'edge', show, node, 'signed-counter.json');
}

export class CounterFloor {
  /** The floor read at start: nothing signed at or below it is accepted. */
  readonly floor: number;
  private highest: number;
  private saved: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly path: string, private readonly onError: (message: string) => void, everyMs = 2000) {
    this.floor = readFloor(path, onError);
    this.highest = this.saved = this.floor;
    this.timer = setInterval(() => this.flush(), everyMs);
    this.timer.unref();
  }

  /** The verifier's highest accepted counter, after each accepted message. */
  accepted(highest: number): void {
    if (highest > this.highest) this.highest = highest;
  }

  /** Writes the floor if it moved. */
  flush(): void {
    if (this.highest <= this.saved) return;
    try {
      writeFileAtomic(this.path, JSON.stringify({ v: 1, highest: this.highest }) + '\n');
      this.saved = this.highest;
    } catch (e) {
      this.onError(`cannot keep the signed counter floor in ${this.path}: ${(e as Error).message} (after a restart, messages signed before it would be accepted once)`);
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

function readFloor(path: string, onError: (message: string) => void): number {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') onError(`cannot read the signed counter floor ${path}: ${(e as Error).message}; starting from 0`);
    return 0;
  }
  try {
    const v = JSON.parse(text) as { highest?: unknown };
    if (typeof v.highest === 'number' && Number.isSafeInteger(v.highest) && v.highest >= 0) return v.highest;
  } catch { /* reported below */ }
  onError(`the signed counter floor ${path} is damaged; starting from 0 (delete it to silence this)`);
  return 0;
}
