/**
 * A simulated stage for tests, the eval and the benchmark: a line lasts as long as the sim voice
 * would take to say it (the measured rate of its language, protocol/speech-rate.ts), a
 * gesture as long as its frames. Runs on any EnsembleClock, so on the virtual one a whole scene
 * takes milliseconds.
 */
import { speechDurationMs } from '../../protocol/speech-rate.ts';
import type { EnsembleClock } from './clock.ts';
import { nodeGesture, type Character } from './character.ts';
import type { LinePart, Performer } from './performer.ts';
import type { Turn } from './turn.ts';

export interface Performed { kind: 'line' | 'filler-gesture' | 'filler-line'; character: string; text?: string; emotion?: string; gesture?: string; scene: string; startedAt: number; endedAt: number; part?: LinePart }

export const FILLER_LINES = ['Hmm.', 'Well...', 'Let me think.', 'Hm, hm.'];
/** The same, for Japanese characters. */
export const FILLER_LINES_JA = ['うーん。', 'そうだな……', 'ちょっと待って。', 'ふむ、ふむ。'];

/** The filler lines a character says: in its own language. */
export function fillerLines(c: Character): readonly string[] {
  return c.persona.language?.toLowerCase().startsWith('ja') ? FILLER_LINES_JA : FILLER_LINES;
}

export class SimPerformer implements Performer {
  readonly log: Performed[] = [];
  private fillerN = 0;
  /** When the part last given for each streamed line ends: the next part waits for it, as a node does. */
  private readonly partTails = new Map<string, Promise<unknown>>();
  constructor(
    private readonly clock: EnsembleClock,
    private readonly o: { msPerChar?: number; minLineMs?: number; leadMs?: number; gestures?: readonly string[] | null; thinkMs?: number } = {},
  ) {}

  /** How long a line takes: the measured rate of the character's language (protocol/speech-rate.ts), or a set msPerChar. */
  lineMs(text: string, language?: string, minMs = this.o.minLineMs ?? 500): number {
    if (this.o.msPerChar !== undefined) return Math.max(minMs, [...text].length * this.o.msPerChar);
    return speechDurationMs(text, { language, minMs });
  }

  gestures(_c: Character): readonly string[] | null {
    return this.o.gestures === undefined ? ['nod', 'shake', 'point', 'think'] : this.o.gestures;
  }

  async perform(p: { character: Character; turn: Turn; gesture?: string; scene: string; part?: LinePart }, signal?: AbortSignal): Promise<{ startedAt: number; endedAt: number }> {
    if (!p.part) return this.speak(p, this.clock.now() + (this.o.leadMs ?? 0), signal);
    // A part is sent at once (its cue leaves now, due after the lead) and spoken when the part
    // before it ends, like edge/cue-executor.ts does it.
    const { line, last } = p.part;
    const before = this.partTails.get(line);
    const due = this.clock.now() + (this.o.leadMs ?? 0);
    const mine = (async () => {
      await before?.catch(() => undefined);
      return this.speak(p, due, signal);
    })();
    if (last) this.partTails.delete(line);
    else this.partTails.set(line, mine);
    if (this.partTails.size > 64) this.partTails.delete(this.partTails.keys().next().value!);
    return mine;
  }

  private async speak(p: { character: Character; turn: Turn; gesture?: string; scene: string; part?: LinePart }, due: number, signal?: AbortSignal): Promise<{ startedAt: number; endedAt: number }> {
    if (due > this.clock.now()) await this.clock.sleep(due - this.clock.now(), signal);
    const startedAt = this.clock.now();
    // A part is a piece of one utterance: no shortest-line floor (that is for a whole line).
    const ms = this.lineMs(p.turn.line, p.character.persona.language, p.part ? 0 : undefined);
    const entry: Performed = { kind: 'line', character: p.character.id, text: p.turn.line, emotion: p.turn.emotion, ...(p.gesture ? { gesture: p.gesture } : {}), scene: p.scene, startedAt, endedAt: startedAt + ms, ...(p.part ? { part: p.part } : {}) };
    this.log.push(entry);
    await this.clock.sleep(ms, signal);
    // On the real clock a timer may fire a little early or late: the log keeps when it really ended.
    entry.endedAt = this.clock.now();
    return { startedAt, endedAt: entry.endedAt };
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
    const lines = fillerLines(p.character);
    const text = lines[this.fillerN++ % lines.length]!;
    const ms = this.lineMs(text, p.character.persona.language);
    this.log.push({ kind: 'filler-line', character: p.character.id, text, scene: p.scene, startedAt, endedAt: startedAt + ms });
    return { startedAt, endsAt: startedAt + ms, kind: 'line' };
  }
}
