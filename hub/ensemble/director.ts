/**
 * The director of an improvised scene: who speaks next, and whether the plot is on track.
 * Next speaker, in order: the operator's override; whoever the last line addressed by name
 * (unless the turns left are all needed for beats and must-say lines: then those come first);
 * a character with a must-say line now due; then a talkativeness roll (SillyTavern's rule) among
 * the others, where the character the next beat needs wins; then the next beat's character;
 * then whoever has been quiet longest. Beats must be hit in order.
 */
import type { Character } from './character.ts';
import { seeded, type Rng } from './rng.ts';
import { judgeBeat, type BeatVerdict } from './beats.ts';
import { nameSpans } from './words.ts';

export interface Beat {
  id: string;
  /** What must happen, in words (goes into the prompt of whoever should drive it). */
  goal: string;
  /** Hints: a line meeting the goal says one of these as whole words (beats.ts judges the goal). */
  keywords: string[];
  /** Characters who can drive this beat; empty = anyone on stage. */
  by?: string[];
  /** A scripted line that hits the beat when the scene runs short of turns. */
  line?: { character: string; text: string };
}

export interface MustSay { character: string; text: string; afterBeat?: string }

export interface ImprovSpec {
  id: string;
  premise: string;
  onStage: string[];
  beats: Beat[];
  mustSay: MustSay[];
  maxTurns: number;
  maxMinutes: number;
  /** Keep going after the last beat until this many turns (default: stop at the last beat). */
  minTurns?: number;
}

export type SpeakerReason = 'override' | 'addressed' | 'must-say' | 'talkative' | 'plot' | 'quietest' | 'forced-beat';

export interface NextSpeaker { speaker: string; reason: SpeakerReason; mustSay?: MustSay; forcedBeat?: Beat }

export class Director {
  readonly onStage: Character[];
  private beatIndex = 0;
  private readonly pendingMustSay: MustSay[] = [];
  private readonly waitingMustSay: MustSay[] = [];
  private readonly lastTurn = new Map<string, number>();
  private turn = 0;
  private lastSpeaker: string | null = null;
  private readonly rng: Rng;
  readonly beatsHitAt: { beat: string; turn: number }[] = [];
  /** The judge's verdict on the last line noted (hit or not), for the journal and the eval. */
  lastVerdict: BeatVerdict | null = null;

  constructor(readonly spec: ImprovSpec, cast: readonly Character[], seed = 1) {
    this.onStage = spec.onStage.map((id) => {
      const c = cast.find((x) => x.id === id);
      if (!c) throw new Error(`improv ${spec.id}: "${id}" is on stage but not in the cast`);
      return c;
    });
    this.rng = seeded(seed);
    for (const m of spec.mustSay) (m.afterBeat ? this.waitingMustSay : this.pendingMustSay).push(m);
  }

  get nextBeat(): Beat | null { return this.spec.beats[this.beatIndex] ?? null; }
  get beatsHit(): number { return this.beatIndex; }
  get turns(): number { return this.turn; }
  get mustSayLeft(): number { return this.pendingMustSay.length + this.waitingMustSay.length; }
  isOnStage(id: string): boolean { return this.onStage.some((c) => c.id === id); }

  /** Has the scene done what it must (every beat, every must-say line, the minimum turns)? */
  complete(): boolean {
    return this.beatIndex >= this.spec.beats.length && this.mustSayLeft === 0 && this.turn >= (this.spec.minTurns ?? 0);
  }

  /** Picks who speaks next. `lastLine` is the line just performed (or about to be). */
  next(lastLine?: { speaker: string; text: string }, override?: string | null): NextSpeaker {
    const last = lastLine?.speaker ?? this.lastSpeaker;
    if (override && this.isOnStage(override)) return { speaker: override, reason: 'override' };
    const beat = this.nextBeat;
    const turnsLeft = this.spec.maxTurns - this.turn;
    const beatsLeft = this.spec.beats.length - this.beatIndex + this.mustSayLeft;
    // Running out of turns: every turn left is needed for a beat or a must-say line, so being
    // addressed by name waits (else a question on the last turns pushes the must-say past maxTurns).
    const short = turnsLeft <= beatsLeft;
    const addressed = lastLine ? this.addressed(lastLine.text, lastLine.speaker) : null;
    if (addressed && !short) return { speaker: addressed, reason: 'addressed' };
    const due = this.pendingMustSay.find((m) => m.character !== last && this.isOnStage(m.character)) ?? this.pendingMustSay.find((m) => this.isOnStage(m.character));
    if (due) return { speaker: due.character, reason: 'must-say', mustSay: due };
    // The next beat is forced with its scripted line (or by its character).
    if (beat && short) {
      const who = beat.line?.character ?? this.plotCandidates(beat, last)[0]?.id ?? this.quietest(last).id;
      return { speaker: who, reason: 'forced-beat', forcedBeat: beat };
    }
    if (addressed) return { speaker: addressed, reason: 'addressed' };
    const others = this.onStage.filter((c) => c.id !== last);
    const pool = others.length ? others : this.onStage;
    const plot = beat ? new Set(this.plotCandidates(beat, last).map((c) => c.id)) : new Set<string>();
    const activated = pool.filter((c) => this.rng() < c.traits.talkativeness);
    if (activated.length) {
      // The plot's choice wins among those who spoke up, unless it has just spoken.
      const needed = activated.filter((c) => plot.has(c.id) && (this.lastTurn.get(c.id) ?? -9) < this.turn - 1);
      const chosen = this.byQuiet(needed.length ? needed : activated);
      return { speaker: chosen.id, reason: needed.length ? 'plot' : 'talkative' };
    }
    const planned = pool.filter((c) => plot.has(c.id));
    if (planned.length) return { speaker: this.byQuiet(planned).id, reason: 'plot' };
    return { speaker: this.quietest(last).id, reason: 'quietest' };
  }

  /** Records a performed line; returns the beat it hit, if any. */
  noteLine(speaker: string, text: string, claimedBeat?: string, mustSay?: MustSay): Beat | null {
    this.turn++;
    this.lastTurn.set(speaker, this.turn);
    this.lastSpeaker = speaker;
    if (mustSay) {
      const i = this.pendingMustSay.indexOf(mustSay);
      if (i >= 0) this.pendingMustSay.splice(i, 1);
    }
    const beat = this.nextBeat;
    this.lastVerdict = null;
    if (!beat) return null;
    // A claimed beat is not evidence: the line itself must meet the goal (beats.ts).
    void claimedBeat;
    const verdict = judgeBeat(beat, text, { names: this.names() });
    this.lastVerdict = verdict;
    if (!verdict.hit) return null;
    this.beatIndex++;
    this.beatsHitAt.push({ beat: beat.id, turn: this.turn });
    for (const m of [...this.waitingMustSay]) {
      if (m.afterBeat === beat.id) {
        this.waitingMustSay.splice(this.waitingMustSay.indexOf(m), 1);
        this.pendingMustSay.push(m);
      }
    }
    return beat;
  }

  /** Every name the cast on stage goes by (a beat hint inside a name is not said). */
  private names(): string[] {
    return this.onStage.flatMap((c) => [c.name, c.name.split(/\s+/)[0]!, c.id]);
  }

  /** The on-stage character a line speaks to by name (the first named, not the speaker); whole words in any script. */
  addressed(text: string, speaker: string): string | null {
    let best: { id: string; at: number } | null = null;
    for (const c of this.onStage) {
      if (c.id === speaker) continue;
      const m = nameSpans(text, [c.name, c.name.split(/\s+/)[0]!, c.id])[0];
      if (m && (!best || m.index < best.at)) best = { id: c.id, at: m.index };
    }
    return best?.id ?? null;
  }

  private plotCandidates(beat: Beat, last: string | null): Character[] {
    const by = beat.by?.length ? this.onStage.filter((c) => beat.by!.includes(c.id)) : [];
    const notLast = by.filter((c) => c.id !== last);
    return notLast.length ? notLast : by;
  }

  private byQuiet(cs: Character[]): Character {
    return [...cs].sort((a, b) => (this.lastTurn.get(a.id) ?? -1) - (this.lastTurn.get(b.id) ?? -1) || b.traits.talkativeness - a.traits.talkativeness)[0]!;
  }

  private quietest(last: string | null): Character {
    const pool = this.onStage.filter((c) => c.id !== last);
    return this.byQuiet(pool.length ? pool : this.onStage);
  }
}
