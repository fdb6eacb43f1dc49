/**
 * The ensemble wired into a hub: attachEnsemble(hub, {backend}) makes the hub perform improv and
 * council cues of its show, answer the console's next-speaker and council commands, and feeds
 * each character's memory with what it witnessed: lines on stage, stage events, and its own
 * node's sensor events (someone came close) and node events.
 */
import type { Hub } from '../hub.ts';
import type { ShowT, ShowCueT, SceneT } from '../show/schema.ts';
import type { Outcome, ExternalCueRunner } from '../playback.ts';
import type { HubExtension } from '../extension.ts';
import { listen, type HubEvents } from '../hub-events.ts';
import type { NodeEventT, TelemetryT, TranscriptLineT, ShowStateT } from '../../protocol/index.ts';
import type { TextBackend, PromptStyle } from './backend.ts';
import { realClock } from './clock.ts';
import { characterFromCast, overlayCast, type Character } from './character.ts';
import { readCardFile, cardPath } from './card-files.ts';
import { MemoryBank } from './memory.ts';
import { TurnStats } from './turn.ts';
import { ImprovEngine, type ImprovRecord, type TurnRecord } from './improv.ts';
import type { ImprovSpec } from './director.ts';
import { Council, CouncilError, type CouncilResult, type AgentUpdate, type NewAgent } from './council.ts';
import { HubStage, type StageReport } from './stage.ts';
import { MockImproviser } from './mock-backend.ts';

export interface EnsembleOptions {
  /** The model. Default: the deterministic mock improviser (works offline). */
  backend?: TextBackend;
  style?: PromptStyle;
  seed?: number;
  lookahead?: boolean;
  fillers?: boolean;
  /** Stream lines to the stage, first clause first (default: on with a model backend; see improv.ts). */
  stream?: boolean;
  /** The show file's path, to find the character cards its cast names. */
  showFile?: string;
  /** A distance reading below this (cm) is remembered as "someone came close" (default 50). */
  proximityCm?: number;
}

/** The cast of a show as characters; a cast entry with `card` takes its persona from that card. */
export function loadCast(show: ShowT, showFile?: string): Character[] {
  return show.cast.map((c) => {
    if (!c.card) return characterFromCast(c);
    try {
      return overlayCast(readCardFile(cardPath(c.card, showFile)).character, c);
    } catch (e) {
      throw new Error(`cast entry "${c.id}"${showFile ? ` of ${showFile}` : ''}: ${(e as Error).message}`);
    }
  });
}

/** An improv cue of a show file as the director's spec. */
export function improvSpecFromCue(cue: ShowCueT, scene: string): ImprovSpec {
  return {
    id: scene,
    premise: cue.premise ?? '',
    onStage: cue.onStage ?? [],
    beats: (cue.beats ?? []).map((b) => ({ id: b.id, goal: b.goal, keywords: b.keywords, ...(b.by ? { by: b.by } : {}), ...(b.line ? { line: b.line } : {}) })),
    mustSay: (cue.mustSay ?? []).map((m) => ({ ...m })),
    maxTurns: cue.maxTurns ?? 12,
    maxMinutes: cue.maxMinutes ?? 5,
    ...(cue.minTurns !== undefined ? { minTurns: cue.minTurns } : {}),
  };
}

/** The improv and council engine, attached to a hub as its 'ensemble' extension (hub/extension.ts). */
export class Ensemble implements HubExtension {
  readonly name = 'ensemble';
  /** The hub's playback hands improv and council cues here. */
  readonly cueRunner: ExternalCueRunner = (cue, scene, signal) => this.runCue(cue, scene, signal);
  readonly cast: Character[];
  readonly memories = new MemoryBank();
  readonly stats = new TurnStats();
  readonly stage: HubStage;
  readonly council: Council;
  readonly backend: TextBackend;
  readonly records: ImprovRecord[] = [];
  readonly councils: CouncilResult[] = [];
  private improvising: AbortController | null = null;
  /** A council asked from the console (not a show cue): stopped by stop and e-stop. */
  private consoleCouncil: AbortController | null = null;
  private lastShow: { estop: boolean; status: string } = { estop: false, status: 'idle' };
  private readonly near = new Set<string>();
  private readonly unlisten: (() => void)[] = [];

  constructor(private readonly hub: Hub, private readonly o: EnsembleOptions = {}) {
    this.cast = loadCast(hub.o.show, o.showFile);
    this.backend = o.backend ?? new MockImproviser({ seed: o.seed ?? 7 });
    this.stage = new HubStage(hub);
    this.council = new Council({ cast: this.cast, backend: this.backend, clock: realClock, performer: this.stage, memories: this.memories, style: o.style ?? 'play', seed: o.seed ?? 1, stats: this.stats });
    // A built-in capability: an agent with "sensors" knows its robot's latest readings.
    const readings = new Map<string, Map<string, TelemetryT>>();
    this.council.registerCapability('sensors', (_q, agent) => {
      const r = readings.get(agent.node);
      if (!r?.size) return null;
      return `my sensors read ${[...r.values()].map((t) => `${t.sensor} ${Math.round(t.value)} ${t.unit}`).join(', ')}`;
    });
    this.stage.on('report', (r: StageReport) => {
      hub.journal?.append({ type: 'event', source: 'ensemble', kind: r.kind, data: { ...r } });
      hub.publish('hubEvent', { kind: r.kind }, { v: 1, kind: r.kind, data: { ...r }, ts: Date.now() });
      hub.emit('ensemble-report', r);
    });
    this.on('telemetry', (node: string, t: TelemetryT) => {
      let m = readings.get(node);
      if (!m) readings.set(node, (m = new Map()));
      m.set(t.sensor, t);
      this.onTelemetry(node, t);
    });
    this.on('node-event', (node: string, e: NodeEventT) => {
      if (e.kind === 'motion') return;
      const c = this.byNode(node);
      if (c) this.memories.get(c.id).observe({ at: realClock.now(), scene: this.sceneNow(), kind: 'event', text: `My robot reported ${e.kind}${typeof e.data.reason === 'string' ? `: ${e.data.reason}` : ''}.`, importance: 0.5 });
    });
    this.on('line', (l: TranscriptLineT) => this.onScriptedLine(l));
    this.on('show-state', (st: ShowStateT) => {
      const stopped = (st.estop && !this.lastShow.estop) || (st.status === 'stopped' && this.lastShow.status !== 'stopped');
      this.lastShow = { estop: st.estop, status: st.status };
      if (stopped) this.consoleCouncil?.abort(st.estop ? 'e-stop' : 'stopped');
    });
  }

  private on<K extends keyof HubEvents>(event: K, fn: (...a: HubEvents[K]) => void): void {
    this.unlisten.push(listen(this.hub, event, fn));
  }

  /** Stops listening, ends what it performs (the hub calls this when it stops or drops the extension). */
  stop(): void {
    for (const off of this.unlisten.splice(0)) off();
    this.stage.close();
    this.improvising?.abort('detached');
  }

  /** Takes this ensemble off its hub. */
  async detach(): Promise<void> {
    await this.hub.drop(this);
  }

  character(id: string): Character | undefined { return this.cast.find((c) => c.id === id); }
  private byNode(node: string): Character | undefined { return this.cast.find((c) => c.node === node); }
  private sceneNow(): string { return this.hub.playback.snapshot().scene ?? 'offstage'; }
  get busy(): boolean { return this.improvising !== null || this.council.busy; }

  private onTelemetry(node: string, t: TelemetryT): void {
    if (t.unit !== 'cm') return;
    const c = this.byNode(node);
    if (!c) return;
    const key = `${node}/${t.sensor}`;
    const limit = this.o.proximityCm ?? 50;
    if (t.value < limit && !this.near.has(key)) {
      this.near.add(key);
      this.memories.get(c.id).observe({ at: realClock.now(), scene: this.sceneNow(), kind: 'sensor', text: `Someone came within ${limit} cm of me (${Math.round(t.value)} cm).`, importance: 0.85 });
    } else if (t.value > limit * 1.4) this.near.delete(key);
  }

  /** Lines of scripted scenes: heard by the characters of that scene. */
  private onScriptedLine(l: TranscriptLineT): void {
    if (l.cue && this.stage.sent.has(l.cue)) return;
    if (l.source !== 'hub' || !l.scene) return;
    const scene: SceneT | undefined = this.hub.o.show.scenes.find((s) => s.id === l.scene);
    const present = scene ? [...new Set(scene.cues.flatMap((c) => [c.character, ...(c.onStage ?? [])]).filter((x): x is string => !!x))] : this.cast.map((c) => c.id);
    const speaker = this.character(l.character);
    this.memories.line(present, { at: realClock.now(), scene: l.scene, speaker: l.character, speakerName: speaker?.name ?? l.character, text: l.text, ...(l.emotion ? { emotion: l.emotion } : {}) });
  }

  /** Performs an improv or council cue (the hub's playback calls this). */
  async runCue(cue: ShowCueT, scene: string, signal: AbortSignal): Promise<{ outcome: Outcome; reason?: string }> {
    if (cue.kind === 'improv') {
      const rec = await this.improvise(improvSpecFromCue(cue, scene), signal);
      return rec.endedBy === 'aborted' ? { outcome: 'stopped', reason: 'stopped' } : { outcome: 'done' };
    }
    if (cue.kind === 'council') {
      try {
        await this.ask(cue.question!, { ...(cue.onStage ? { agents: cue.onStage } : {}), scene, signal });
        return { outcome: 'done' };
      } catch (e) {
        if ((e as Error).name === 'AbortError') return { outcome: 'stopped', reason: 'stopped' };
        throw e;
      }
    }
    return { outcome: 'skipped', reason: `the ensemble does not perform ${cue.kind} cues` };
  }

  /** Improvises a scene on stage. */
  async improvise(spec: ImprovSpec, signal?: AbortSignal): Promise<ImprovRecord> {
    if (this.improvising) throw new Error('an improvised scene is already running');
    const ctl = new AbortController();
    const relay = () => ctl.abort(signal?.reason);
    signal?.addEventListener('abort', relay, { once: true });
    this.improvising = ctl;
    const hub = this.hub;
    try {
      const engine = new ImprovEngine({
        cast: this.cast, backend: this.backend, clock: realClock, performer: this.stage, memories: this.memories, stats: this.stats,
        override: { get: () => hub.nextSpeaker.current, clear: () => { hub.nextSpeaker.take(); } },
        // Curator mode on the page: each written line waits for the operator (approved at once when the mode is off).
        curate: async (line) => {
          const decision = await hub.curator.submit(line);
          if (decision !== 'approved') hub.journal?.append({ type: 'event', source: 'curator', kind: decision, data: { scene: spec.id, ...line } });
          return decision;
        },
        onTurn: (t: TurnRecord) => {
          hub.journal?.append({ type: 'event', source: 'ensemble', kind: 'improv-turn', data: { scene: spec.id, ...t } });
          hub.emit('improv-turn', spec.id, t);
        },
      }, { lookahead: this.o.lookahead ?? true, fillers: this.o.fillers ?? true, style: this.o.style ?? 'play', seed: this.o.seed ?? 1, title: hub.o.show.title, stream: this.o.stream ?? !!this.o.backend });
      const rec = await engine.run(spec, ctl.signal);
      this.records.push(rec);
      hub.journal?.append({ type: 'event', source: 'ensemble', kind: 'improv-summary', data: { scene: spec.id, endedBy: rec.endedBy, beatsHit: rec.beatsHit, beats: rec.beats, stats: rec.stats, turns: rec.turns.length } });
      return rec;
    } finally {
      signal?.removeEventListener('abort', relay);
      this.improvising = null;
    }
  }

  /** Puts a question to the council, performed on stage. */
  async ask(question: string, o: { agents?: string[]; scene?: string; signal?: AbortSignal } = {}): Promise<CouncilResult> {
    const r = await this.council.ask(question, { scene: o.scene ?? this.sceneNow().replace(/^offstage$/, 'council'), ...(o.agents ? { agents: o.agents } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    this.councils.push(r);
    const data = { question: r.question, answer: r.answer.line, by: r.answer.agent, takes: r.takes.map((t) => ({ agent: t.agent, role: t.role, line: t.line })) };
    this.hub.journal?.append({ type: 'event', source: 'ensemble', kind: 'council-answer', data });
    this.hub.publish('hubEvent', { kind: 'council-answer' }, { v: 1, kind: 'council-answer', data, ts: Date.now() });
    this.hub.emit('council', r);
    return r;
  }

  // ---- console ------------------------------------------------------------------------
  setNextSpeaker(id: string): { ok: boolean; message: string } {
    const c = this.character(id);
    if (!c) return { ok: false, message: `next-speaker: no character "${id}" (cast: ${this.cast.map((x) => x.id).join(', ')})` };
    this.hub.nextSpeaker.set(c.id);
    return { ok: true, message: this.improvising ? `${c.name} speaks next` : `${c.name} will speak first in the next improvised scene` };
  }

  councilAsk(question: string, agents?: string[]): { ok: boolean; message: string } {
    if (this.hub.estopActive) return { ok: false, message: 'council/ask refused: e-stop is active' };
    if (this.busy) return { ok: false, message: 'council/ask refused: the ensemble is performing (an improvised scene or another question)' };
    try {
      for (const a of agents ?? []) this.council.agent(a);
    } catch (e) { return { ok: false, message: `council/ask: ${(e as Error).message}` }; }
    if (!this.council.agents().length) return { ok: false, message: 'council/ask: no agents (give cast members a role)' };
    const ctl = new AbortController();
    this.consoleCouncil = ctl;
    this.ask(question, { ...(agents ? { agents } : {}), signal: ctl.signal })
      .catch((e: Error) => this.hub.console.reply('council/ask', { ok: false, message: e.name === 'AbortError' ? `council/ask stopped: ${e.message}` : `council/ask failed: ${e.message}` }))
      .finally(() => { if (this.consoleCouncil === ctl) this.consoleCouncil = null; });
    const who = (agents?.length ? agents : this.council.agents().map((a) => a.id)).join(', ');
    return { ok: true, message: `the council (${who}) is answering: "${question}"; the answer follows on hub/event/council-answer` };
  }

  councilAgent(a: { id: string; create?: boolean; role?: string; name?: string; node?: string; persona?: string; params?: AgentUpdate['params']; addCapability?: string; removeCapability?: string }): { ok: boolean; message: string } {
    try {
      if (a.create) {
        if (!a.role) return { ok: false, message: 'council/agent: creating an agent needs a role' };
        const n: NewAgent = { id: a.id, role: a.role, ...(a.name ? { name: a.name } : {}), ...(a.node ? { node: a.node } : {}), ...(a.persona ? { persona: a.persona } : {}), ...(a.params ? { params: a.params } : {}), ...(a.addCapability ? { capabilities: [a.addCapability] } : {}) };
        const c = this.council.createAgent(n);
        return { ok: true, message: `agent ${c.id} created: ${c.name}, role ${c.role}, on node ${c.node}` };
      }
      const { id, create: _c, ...u } = a;
      const c = this.council.customize(id, u);
      return { ok: true, message: `agent ${c.id}: role ${c.role ?? '-'}, riskTolerance ${c.traits.riskTolerance}, talkativeness ${c.traits.talkativeness}, analysisDepth ${c.traits.analysisDepth}, capabilities ${c.capabilities.join(', ') || 'none'}` };
    } catch (e) {
      if (e instanceof CouncilError) return { ok: false, message: `council/agent: ${e.message}` };
      throw e;
    }
  }
}

export function attachEnsemble(hub: Hub, o: EnsembleOptions = {}): Ensemble {
  const previous = hub.extension<Ensemble>('ensemble');
  if (previous) void hub.drop(previous);
  return hub.use(new Ensemble(hub, o));
}
