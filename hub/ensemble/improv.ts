/**
 * Improvised scenes. The director picks who speaks; the speaker's turn comes from the model as a
 * structured turn (parsed, repaired or regenerated); the stage performs it. With lookahead the
 * next turn is generated while the current one is performed. A character whose turn is not ready
 * when it is due gets a filler (the node's "think" gesture, or a short filler line) and then, past
 * its latency budget, a fallback line (fallback-lines.ts): the stage never waits in silence for
 * the model. With streaming, a line is performed in parts while it is written (streamed-line.ts).
 */
import type { TextBackend, PromptStyle } from './backend.ts';
import { completeText } from './backend.ts';
import type { EnsembleClock } from './clock.ts';
import { nodeGesture, type Character } from './character.ts';
import { Director, type ImprovSpec, type NextSpeaker, type Beat, type MustSay } from './director.ts';
import type { MemoryBank } from './memory.ts';
import { isRepeatOf } from './language.ts';
import { turnPrompt } from './prompt.ts';
import { structuralCheck, turnResponseSchema } from './turn-schema.ts';
import { parseTurn, TurnStats, type Turn, type ParseStatus } from './turn.ts';
import { inferEmotion, normalizeEmotion, EMOTION_GESTURE } from './emotion.ts';
import { readStreaming, type LineChunk } from './stream-clause.ts';
import { fallbackTurn } from './fallback-lines.ts';
import { raceUntil } from './race-until.ts';
import type { Performer } from './performer.ts';
import type { TurnRecord, ImprovRecord } from './improv-record.ts';
import { StreamedLine } from './streamed-line.ts';

// The stage interface and the records live in their own modules; importers of this one keep working.
export type { Performer, LinePart } from './performer.ts';
export type { TurnRecord, ImprovRecord } from './improv-record.ts';

export interface ImprovOptions {
  /** Generate upcoming turns while the current one is performed (default true). */
  lookahead?: boolean;
  /** How many turns to keep ready beyond the one on stage (default 2; 1 = only the next). */
  lookaheadDepth?: number;
  fillers?: boolean;
  /** Model attempts per turn before the fallback line (default 3). */
  maxAttempts?: number;
  style?: PromptStyle;
  seed?: number;
  /** A natural pause between two lines (default 150 ms); a line due later than this is dead air. */
  gapMs?: number;
  promptTokens?: number;
  maxTokens?: number;
  temperature?: number;
  title?: string;
  /**
   * Ask the backend to decode under the turn's JSON schema (default true): structure is then
   * enforced while generating, and repairs remain only for content.
   */
  constrained?: boolean;
  /**
   * Streaming to the stage (constrained turns only): a line is performed in parts, its first
   * short natural break as soon as it is generated and each following chunk as it is written, so
   * a slow model starts speaking early. A streamed turn is never regenerated (its start has been
   * heard). Default false.
   */
  stream?: boolean;
}

interface Generated {
  turn: Turn;
  source: TurnRecord['source'];
  firstStatus?: ParseStatus;
  firstRightSpeaker?: boolean;
  firstStructural?: boolean;
  attempts: number;
  genMs: number;
  readyAt: number;
}

export interface ImprovDeps {
  cast: readonly Character[];
  backend: TextBackend;
  clock: EnsembleClock;
  performer: Performer;
  memories: MemoryBank;
  stats?: TurnStats;
  /** The operator's next-speaker override: read before each choice, cleared once used. */
  override?: { get(): string | null; clear(): void };
  onTurn?: (t: TurnRecord) => void;
  /** Curator mode: the operator approves, vetoes or asks to regenerate each line the model writes. */
  curate?: (line: { character: string; text: string; emotion?: string }) => Promise<'approved' | 'vetoed' | 'regenerate'>;
}

export class ImprovEngine {
  readonly stats: TurnStats;
  constructor(private readonly d: ImprovDeps, private readonly o: ImprovOptions = {}) {
    this.stats = d.stats ?? new TurnStats();
  }

  async run(spec: ImprovSpec, signal?: AbortSignal): Promise<ImprovRecord> {
    const { clock, performer, memories } = this.d;
    const o = this.o;
    const depth = o.lookahead === false ? 0 : Math.max(1, o.lookaheadDepth ?? 2);
    const fillers = o.fillers ?? true;
    const gap = o.gapMs ?? 150;
    const director = new Director(spec, this.d.cast, o.seed ?? 1);
    const present = director.onStage.map((c) => c.id);
    const startedAt = clock.now();
    const endBy = startedAt + spec.maxMinutes * 60_000;
    const turns: TurnRecord[] = [];
    const recentLines: string[] = [];
    let endedBy: ImprovRecord['endedBy'] = 'max-turns';
    let busyUntil = startedAt; // when the stage last fell silent
    memories.event(present, { at: startedAt, scene: spec.id, text: `Scene begins: ${spec.premise}`, kind: 'note', importance: 0.5 });

    // Turns generated and committed (the director and the memories know them) but not yet performed.
    const queue: { gen: Generated; plan: NextSpeaker; hit: Beat | null }[] = [];
    // `chunks`: speakable chunks of a streamed line written but not yet sent to the stage.
    type Inflight = { plan: NextSpeaker; ctl: AbortController; promise: Promise<Generated>; chunks: LineChunk[] };
    const st: { inflight: Inflight | null } = { inflight: null };
    let producing = true;
    let performing = false;
    let wake: () => void = () => undefined;
    let changed = new Promise<void>((r) => { wake = r; });
    const notify = () => { const w = wake; changed = new Promise<void>((r) => { wake = r; }); w(); };
    const overrideNow = (): string | null => {
      const v = this.d.override?.get() ?? null;
      return v && director.isOnStage(v) ? v : null;
    };
    const takePlan = (lastLine?: { speaker: string; text: string }): NextSpeaker => {
      const p = director.next(lastLine, overrideNow());
      if (p.reason === 'override') this.d.override?.clear();
      return p;
    };
    let nextPlan: NextSpeaker = takePlan();

    const commit = (gen: Generated, plan: NextSpeaker) => {
      const speaker = director.onStage.find((c) => c.id === plan.speaker)!;
      const turn = gen.turn;
      const addressed = director.addressed(turn.line, turn.speaker);
      const hit = director.noteLine(turn.speaker, turn.line, turn.beat, plan.mustSay);
      const now = clock.now();
      memories.line(present, { at: now, scene: spec.id, speaker: speaker.id, speakerName: speaker.name, text: turn.line, emotion: turn.emotion, addressed });
      if (hit) memories.event(present, { at: now, scene: spec.id, text: `(${hit.goal})`, kind: 'note', importance: 0.6 });
      recentLines.push(turn.line);
      queue.push({ gen, plan, hit });
      if (director.turns >= spec.maxTurns || director.complete() || now >= endBy) producing = false;
      else nextPlan = takePlan({ speaker: turn.speaker, text: turn.line });
      notify();
    };
    // Starts the next generation when the lookahead allows one: depth 0 waits for the stage to
    // fall silent; depth d keeps up to d turns ready beyond the one on stage.
    const produce = () => {
      if (!producing || st.inflight || signal?.aborted) return;
      if (depth === 0 ? queue.length > 0 || performing : queue.length >= depth) return;
      // The operator's choice counts at the last moment before generating.
      const ov = overrideNow();
      if (ov) { this.d.override?.clear(); nextPlan = { speaker: ov, reason: 'override' }; }
      const plan = nextPlan;
      const ctl = new AbortController();
      const mine: Inflight = { plan, ctl, promise: null as unknown as Promise<Generated>, chunks: [] };
      const onChunk = (c: LineChunk) => { if (st.inflight === mine) { mine.chunks.push(c); notify(); } };
      mine.promise = this.generate(spec, director, plan, recentLines, ctl.signal, onChunk);
      const promise = mine.promise;
      st.inflight = mine;
      promise.then((gen) => {
        if (st.inflight !== mine || ctl.signal.aborted) return;
        st.inflight = null;
        commit(gen, mine.plan);
        produce();
      }, () => undefined);
    };
    const onAbort = () => { st.inflight?.ctl.abort('scene stopped'); notify(); };
    signal?.addEventListener('abort', onAbort);
    produce();

    try {
      for (;;) {
        if (signal?.aborted) { endedBy = 'aborted'; break; }
        if (!queue.length && !st.inflight) break; // nothing left to say
        // The operator picked someone else while a turn was being prepared: prepare theirs instead.
        const ov = overrideNow();
        // (Turns already committed are performed as written: the override takes the next free turn.)
        if (ov && st.inflight && st.inflight.plan.speaker === ov) {
          this.d.override?.clear();
          st.inflight.plan = { ...st.inflight.plan, reason: 'override' };
        } else if (ov && st.inflight) {
          st.inflight.ctl.abort('overridden');
          st.inflight = null;
          this.d.override?.clear();
          nextPlan = { speaker: ov, reason: 'override' };
          produce();
        }
        const upcoming = queue[0]?.plan ?? st.inflight!.plan;
        const speaker = director.onStage.find((c) => c.id === upcoming.speaker)!;
        const due = Math.max(busyUntil + gap, clock.now());
        const giveUpAt = due + speaker.latencyBudgetMs;
        let fillerKind: TurnRecord['filler'];
        let fillerStart: number | undefined;
        // A streamed line, begun while the rest of it is still being written, and where its chunks come from.
        let streamed: StreamedLine | undefined;
        let streamingFrom: Inflight | undefined;
        // Wait for the turn until it is due; then fillers; then the fallback past the budget.
        while (!queue.length && !signal?.aborted) {
          const writing = st.inflight?.plan.speaker === speaker.id ? st.inflight : undefined;
          if (!streamed && writing?.chunks.length && clock.now() >= due) {
            const c0 = writing.chunks[0]!;
            const gesture = this.chooseGesture(speaker, { speaker: speaker.id, line: c0.text, emotion: normalizeEmotion(c0.emotion) ?? 'neutral', intensity: c0.intensity, ...(c0.gesture ? { gesture: c0.gesture } : {}) });
            streamed = new StreamedLine({ clock, performer, character: speaker, scene: spec.id, id: `${spec.id}-${director.turns}-${turns.length}`, ...(gesture ? { gesture } : {}), ...(signal ? { signal } : {}) });
            streamingFrom = writing;
            performing = true;
          }
          if (streamed) {
            for (const c of streamingFrom!.chunks.splice(0)) streamed.push(c);
            await raceUntil(changed, clock, clock.now() + 60_000, signal);
            continue;
          }
          const now = clock.now();
          let until = now < due ? due : fillers ? Math.min(giveUpAt, Math.max(busyUntil + gap, now + 50)) : giveUpAt;
          if (now >= due && fillers && now >= busyUntil + gap && now < giveUpAt) {
            const f = await performer.filler({ character: speaker, scene: spec.id }, signal).catch(() => null);
            if (f) {
              this.stats.fillers++;
              fillerKind ??= f.kind;
              fillerStart ??= f.startedAt;
              busyUntil = Math.max(busyUntil, f.endsAt);
              until = Math.min(giveUpAt, busyUntil + gap);
            }
          }
          await raceUntil(changed, clock, Math.max(until, clock.now()), signal);
          if (queue.length || signal?.aborted) break;
          if (clock.now() >= giveUpAt && st.inflight) {
            const late = st.inflight;
            late.ctl.abort('latency budget spent');
            st.inflight = null;
            this.stats.timeouts++;
            this.stats.fallbacks++;
            commit({ turn: this.fallbackTurn(speaker, director, director.turns), source: 'fallback', attempts: 0, genMs: clock.now() - due, readyAt: clock.now() }, late.plan);
          }
        }
        if (signal?.aborted || !queue.length) { endedBy = 'aborted'; break; }
        const { gen, plan, hit } = queue.shift()!;
        performing = true;
        produce();
        const turn = gen.turn;
        const gesture = this.chooseGesture(speaker, turn);
        // A turn ready early still waits for the natural pause after the last line.
        const wait = due - clock.now();
        if (wait > 0 && fillerStart === undefined) await clock.sleep(wait, signal).catch(() => undefined);
        if (signal?.aborted) { endedBy = 'aborted'; break; }
        let perf: { startedAt: number; endedAt: number };
        let spoken = turn.line;
        let streamedResult: Awaited<ReturnType<StreamedLine['finish']>> | undefined;
        if (streamed) {
          // Chunks written after the loop last looked, then what is still unsaid (a turn that fell
          // back after its start had been heard ends there: nothing else fits what was said).
          for (const c of streamingFrom!.chunks.splice(0)) streamed.push(c);
          streamedResult = await streamed.finish(turn);
          spoken = streamedResult.spoken;
          perf = streamedResult;
        } else {
          perf = await performer.perform({ character: speaker, turn, ...(gesture ? { gesture } : {}), scene: spec.id }, signal);
        }
        performing = false;
        const rec: TurnRecord = {
          index: turns.length, speaker: speaker.id, line: spoken, emotion: turn.emotion, intensity: turn.intensity,
          ...((streamed ? streamed.gesture : gesture) ? { gesture: streamed ? streamed.gesture : gesture } : {}), source: gen.source, reason: plan.reason,
          ...(gen.firstStatus ? { firstStatus: gen.firstStatus, firstRightSpeaker: gen.firstRightSpeaker } : {}),
          ...(gen.firstStructural !== undefined ? { firstStructural: gen.firstStructural } : {}),
          attempts: gen.attempts, genMs: gen.genMs,
          deadAirMs: deadAir(turns.at(-1)?.endedAt ?? startedAt, fillerStart, perf.startedAt),
          waitedMs: Math.max(0, gen.readyAt - due),
          ...(fillerKind ? { filler: fillerKind } : {}), ...(hit ? { beat: hit.id } : {}), ...(streamedResult ? { streamed: true, readyAt: gen.readyAt, parts: streamedResult.parts, midLineGapMs: streamedResult.midLineGapMs } : {}),
          startedAt: perf.startedAt, endedAt: perf.endedAt,
        };
        turns.push(rec);
        this.d.onTurn?.(rec);
        busyUntil = Math.max(busyUntil, perf.endedAt);
        if (signal?.aborted) { endedBy = 'aborted'; break; }
        produce();
      }
      if (endedBy !== 'aborted') endedBy = director.complete() ? 'beats' : clock.now() >= endBy ? 'max-minutes' : 'max-turns';
    } finally {
      producing = false;
      st.inflight?.ctl.abort('scene over');
      signal?.removeEventListener('abort', onAbort);
    }
    return {
      scene: spec.id, premise: spec.premise, onStage: present, turns,
      beats: spec.beats.map((b) => b.id), beatsHit: director.beatsHitAt.map((b) => b.beat), endedBy,
      stats: this.stats.snapshot(), startedAt, endedAt: clock.now(),
    };
  }

  private generate(spec: ImprovSpec, director: Director, plan: NextSpeaker, recent: readonly string[], signal: AbortSignal, onChunk?: (c: LineChunk) => void): Promise<Generated> {
    const p = this.generateTurn(spec, director, plan, recent, signal, onChunk).catch((e: Error) => {
      if (e.name === 'AbortError' || signal.aborted) throw e;
      // A backend that fails is a miss like any other: the fallback line carries the scene.
      this.stats.fallbacks++;
      const ch = director.onStage.find((c) => c.id === plan.speaker)!;
      return { turn: this.fallbackTurn(ch, director, director.turns), source: 'fallback' as const, attempts: 0, genMs: 0, readyAt: this.d.clock.now() };
    });
    p.catch(() => undefined);
    return p;
  }

  /** Produces the turn for `plan`: a must-say or scripted line as written, else the model's, checked. */
  private async generateTurn(spec: ImprovSpec, director: Director, plan: NextSpeaker, recent: readonly string[], signal: AbortSignal, onChunk?: (c: LineChunk) => void): Promise<Generated> {
    const { clock, backend, memories } = this.d;
    const t0 = clock.now();
    const ch = director.onStage.find((c) => c.id === plan.speaker)!;
    const scripted = (m: MustSay | { character: string; text: string }, source: Generated['source']): Generated => {
      const e = inferEmotion(m.text);
      return { turn: { speaker: ch.id, line: m.text, emotion: e.emotion, intensity: e.intensity }, source, attempts: 0, genMs: 0, readyAt: clock.now() };
    };
    if (plan.mustSay) return scripted(plan.mustSay, 'must-say');
    if (plan.forcedBeat?.line && plan.forcedBeat.line.character === ch.id) return scripted(plan.forcedBeat.line, 'scripted');
    const steer = this.steerFor(director, ch, plan);
    const maxAttempts = this.o.maxAttempts ?? 3;
    let retryNote: string | undefined;
    let first: { status: ParseStatus; right: boolean; structural?: boolean } | undefined;
    const gestures = this.semanticGestures(ch);
    const schema = this.o.constrained === false ? undefined : turnResponseSchema({ speaker: ch, gestures, lineFirst: !!this.o.stream });
    const recentSet = recent.slice(-12).map(normLine);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const req = turnPrompt({
        style: this.o.style ?? 'play', title: this.o.title ?? 'Kuroko', spec, speaker: ch, onStage: director.onStage,
        memory: memories.get(ch.id), now: clock.now(), steer, gestures, budgetTokens: this.o.promptTokens ?? 700, ...(retryNote ? { retryNote } : {}),
      });
      const streamThis = !!(this.o.stream && schema && onChunk && attempt === 1);
      let firedEarly = false;
      const fullReq = { ...req, ...(schema ? { responseSchema: schema } : {}), maxTokens: this.o.maxTokens ?? 80, temperature: this.o.temperature ?? 0.8, seed: (this.o.seed ?? 1) * 1009 + director.turns * 31 + attempt, signal };
      const raw = streamThis
        ? await readStreaming(backend, fullReq, (c) => { firedEarly = true; onChunk!(c); })
        : await completeText(backend, fullReq);
      const res = parseTurn(raw, ch, director.onStage, { continuation: (this.o.style ?? 'play') === 'play' });
      this.stats.record(res);
      if (!first) first = { status: res.status, right: !res.wrongSpeaker, ...(schema ? { structural: structuralCheck(schema, raw) } : {}) };
      let ok = res.status !== 'invalid' && res.turn;
      // Its first clause is already on stage: a streamed answer is taken as written.
      if (firedEarly) {
        if (ok) return { turn: res.turn!, source: 'model', firstStatus: first.status, firstRightSpeaker: first.right, ...(first.structural !== undefined ? { firstStructural: first.structural } : {}), attempts: attempt, genMs: clock.now() - t0, readyAt: clock.now() };
        break;
      }
      if (ok && isRepeat(normLine(res.turn!.line), recentSet)) {
        this.stats.repeats++;
        ok = false;
        retryNote = 'Do not repeat a line already said; say something new.';
        if (first && attempt === 1) first.status = 'invalid';
      } else if (!ok) retryNote = `Your last answer was not usable (${res.notes.at(-1) ?? 'invalid'}). Answer as ${ch.name} only.`;
      if (ok && this.d.curate) {
        const decision = await this.d.curate({ character: ch.id, text: res.turn!.line, emotion: res.turn!.emotion });
        if (decision !== 'approved') {
          this.stats.curatorRejected++;
          ok = false;
          retryNote = decision === 'vetoed' ? 'The director cut that line. Say something different.' : 'Try that line another way.';
        }
      }
      if (ok) return { turn: res.turn!, source: 'model', firstStatus: first.status, firstRightSpeaker: first.right, ...(first.structural !== undefined ? { firstStructural: first.structural } : {}), attempts: attempt, genMs: clock.now() - t0, readyAt: clock.now() };
      if (attempt < maxAttempts) this.stats.regenerated++;
    }
    this.stats.fallbacks++;
    return { turn: this.fallbackTurn(ch, director, director.turns), source: 'fallback', ...(first ? { firstStatus: first.status, firstRightSpeaker: first.right, ...(first.structural !== undefined ? { firstStructural: first.structural } : {}) } : {}), attempts: maxAttempts, genMs: clock.now() - t0, readyAt: clock.now() };
  }

  private steerFor(director: Director, ch: Character, plan: NextSpeaker): Beat | null {
    const beat = director.nextBeat;
    if (!beat) return null;
    if (plan.forcedBeat || plan.reason === 'plot') return beat;
    return !beat.by?.length || beat.by.includes(ch.id) ? beat : null;
  }

  private fallbackTurn(ch: Character, director: Director, n: number): Turn {
    return fallbackTurn(ch, director.nextBeat, n);
  }


  private semanticGestures(ch: Character): string[] {
    const have = this.d.performer.gestures(ch);
    const semantic = [...new Set(['nod', 'shake', 'point', ...Object.keys(ch.gestures)])];
    return have ? semantic.filter((s) => have.includes(nodeGesture(ch, s))) : semantic;
  }

  /** The node gesture for a turn: the model's if the node has it, else one that fits the emotion. */
  private chooseGesture(ch: Character, turn: Turn): string | undefined {
    const have = this.d.performer.gestures(ch);
    if (!have) return undefined;
    if (turn.gesture) {
      const g = nodeGesture(ch, turn.gesture);
      if (have.includes(g)) return g;
    }
    const semantic = EMOTION_GESTURE[turn.emotion];
    if (semantic && turn.intensity >= 0.65) {
      const g = nodeGesture(ch, semantic);
      if (have.includes(g)) return g;
    }
    return undefined;
  }
}

/** Dead air: the silence from the end of the last line to whatever came next (a filler counts), natural pause included. */
function deadAir(prevEnd: number, fillerStart: number | undefined, lineStart: number): number {
  const next = fillerStart !== undefined ? Math.min(fillerStart, lineStart) : lineStart;
  return Math.max(0, next - prevEnd);
}

function normLine(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N} ]/gu, '').replace(/\s+/g, ' ').trim();
}

function isRepeat(line: string, recent: string[]): boolean {
  return recent.some((r) => isRepeatOf(line, r));
}
