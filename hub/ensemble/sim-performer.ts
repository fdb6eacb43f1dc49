/**
 * A simulated stage for tests, the eval and the benchmark: a line lasts as long as the sim voice
 * would take to say it (45 ms a character, like firmware-config/profiles/sim-robot.yaml), a
 * gesture as long as its frames. Runs on any EnsembleClock, so on the virtual one a whole scene
 * takes milliseconds.
 */
import type { EnsembleClock } from './clock.ts';
import { nodeGesture, type Character } from './character.ts';
import type { LinePart, Performer } from './improv.ts';
import type { Turn } from './turn.ts';

export interface Performed { kind: 'line' | 'filler-gesture' | 'filler-line'; character: string; text?: string; emotion?: string; gesture?: string; scene: string; startedAt: number; endedAt: number; part?: LinePart }

export const FILLER_LINES = ['Hmm.', 'Well...', 'Let me think.', 'Hm, hm.'];

export class SimPerformer implements Performer {
  readonly log: Performed[] = [];
  private fillerN = 0;
  constructor(
    private readonly clock: EnsembleClock,
    private readonly o: { msPerChar?: number; minLineMs?: number; leadMs?: number; gestures?: readonly string[] | null; thinkMs?: number } = {},
  ) {}

  lineMs(text: string): number {
    return Math.max(this.o.minLineMs ?? 500, text.length * (this.o.msPerChar ?? 45));
  }

  gestures(_c: Character): readonly string[] | null {
    return this.o.gestures === undefined ? ['nod', 'shake', 'point', 'think'] : this.o.gestures;
  }

  async perform(p: { character: Character; turn: Turn; gesture?: string; scene: string; part?: LinePart }, signal?: AbortSignal): Promise<{ startedAt: number; endedAt: number }> {
    if (this.o.leadMs) await this.clock.sleep(this.o.leadMs, signal);
    const startedAt = this.clock.now();
    const ms = this.lineMs(p.turn.line);
    this.log.push({ kind: 'line', character: p.character.id, text: p.turn.line, emotion: p.turn.emotion, ...(p.gesture ? { gesture: p.gesture } : {}), scene: p.scene, startedAt, endedAt: startedAt + ms, ...(p.part ? { part: p.part } : {}) });
    await this.clock.sleep(ms, signal);
    return { startedAt, endedAt: this.clock.now() };
  }

  async filler(p: { character: Character; scene: string }): Promise<{ startedAt: number; endsAt: number; kind: 'gesture' | 'line' }> {
    const startedAt = this.clock.now();
    const have = this.gestures(p.character);
    const think = nodeGesture(p.character, 'think');
    if (have?.includes(think)) {
      const ms = this.o.thinkMs ?? 800;
      this.log.push({ kind: 'filler-gesture', character: p.character.id, gesture: think, scene: p.scene, startedAt, endedAt: startedAt + ms });
      return { startedAt, endsAt: startedAt + ms, kind: 'gesture' };
    }
    const text = FILLER_LINES[this.fillerN++ % FILLER_LINES.length]!;
    const ms = this.lineMs(text);
    this.log.push({ kind: 'filler-line', character: p.character.id, text, scene: p.scene, startedAt, endedAt: startedAt + ms });
    return { startedAt, endsAt: startedAt + ms, kind: 'line' };
  }
}
