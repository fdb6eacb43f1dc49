/**
 * Council mode: a question (from the audience or the operator) goes to the agents; each gives its
 * take in role — intelligence reports what is known, analysis weighs the risks, decision commits,
 * coordination (or whoever is set) synthesises the final answer. Each take is a line performed by
 * that agent's robot; the next take is generated while the current one is performed.
 * Agents are characters with a role; their parameters (risk tolerance, analysis depth, ...) and
 * capabilities can be changed, and new agents created, from TypeScript or over MQTT.
 */
import type { TextBackend, PromptStyle } from './backend.ts';
import { completeText } from './backend.ts';
import type { EnsembleClock } from './clock.ts';
import { DEFAULT_LATENCY_BUDGET_MS, type Character, type AnalysisDepth } from './character.ts';
import type { MemoryBank } from './memory.ts';
import type { Performer } from './performer.ts';
import { councilPrompt } from './prompt.ts';
import { parseTurn, TurnStats, type Turn } from './turn.ts';
import { turnResponseSchema } from './turn-schema.ts';
import { inferEmotion } from './emotion.ts';
import { ID_PATTERN } from '../../protocol/ids.ts';

export const ROLE_INSTRUCTIONS: Record<string, string> = {
  decision: 'decision — you decide and commit to a course of action, in line with your risk tolerance.',
  analysis: 'analysis — you weigh risks, costs and odds; go as deep as your analysis depth says.',
  intelligence: 'intelligence — you report what is known: facts, rumours, readings, and how sure you are.',
  coordination: 'coordination — you weigh the others\' takes and find the answer the group can act on.',
};
export const ROLE_ORDER = ['intelligence', 'analysis', 'decision', 'coordination'];

/** A capability gives an agent facts for its take (e.g. "sensors" reads its robot's sensors). */
export type CapabilityHandler = (question: string, agent: Character) => string | null | Promise<string | null>;

export interface AgentParams { riskTolerance?: number; talkativeness?: number; analysisDepth?: AnalysisDepth }
export interface AgentUpdate { role?: string; name?: string; node?: string; persona?: string; params?: AgentParams; addCapability?: string; removeCapability?: string }
export interface NewAgent { id: string; role: string; name?: string; node?: string; persona?: string; params?: AgentParams; capabilities?: string[] }

export interface CouncilTake {
  agent: string;
  name: string;
  role: string;
  line: string;
  emotion: string;
  intensity: number;
  source: 'model' | 'fallback';
  attempts: number;
  context: string[];
}

export interface CouncilResult {
  question: string;
  takes: CouncilTake[];
  answer: CouncilTake;
  stats: Record<string, number>;
}

export interface CouncilDeps {
  /** The cast; the council changes and adds to it (shared with the ensemble). */
  cast: Character[];
  backend: TextBackend;
  clock: EnsembleClock;
  performer?: Performer;
  memories?: MemoryBank;
  style?: PromptStyle;
  /** Decode each take under the turn's JSON schema (default true; see turn-schema.ts). */
  constrained?: boolean;
  seed?: number;
  stats?: TurnStats;
  maxAttempts?: number;
}

const FALLBACK_TAKE: Record<string, (topic: string) => string> = {
  intelligence: (t) => `I have little on the ${t} yet; what I have says move carefully.`,
  analysis: (t) => `The ${t} carries real risk; I would limit our exposure.`,
  decision: (t) => `We act on the ${t}, and we act now.`,
  coordination: (t) => `We have heard every side of the ${t}; let us decide together.`,
};

const FALLBACK_TAKE_JA: Record<string, string> = {
  intelligence: 'まだ情報は少ない。分かっている限り、慎重に動くべきだ。',
  analysis: 'この件には本当の危険がある。賭けは小さくしたい。',
  decision: 'この件は動く。今すぐだ。',
  coordination: 'みんなの意見は聞いた。一緒に決めよう。',
};

export class CouncilError extends Error {}

export class Council {
  private readonly handlers = new Map<string, CapabilityHandler>();
  readonly stats: TurnStats;
  busy = false;

  constructor(private readonly d: CouncilDeps) {
    this.stats = d.stats ?? new TurnStats();
  }

  /** The agents: every cast member with a role. */
  agents(): Character[] {
    return this.d.cast.filter((c) => !!c.role);
  }

  agent(id: string): Character {
    const a = this.d.cast.find((c) => c.id === id);
    if (!a) throw new CouncilError(`no agent "${id}" (agents: ${this.agents().map((x) => x.id).join(', ') || 'none'})`);
    return a;
  }

  /** Makes a capability available; agents that have it get its facts in their take. */
  registerCapability(name: string, handler: CapabilityHandler): void {
    this.handlers.set(name, handler);
  }

  /** Gives an agent a capability (optionally registering what it does). */
  addCapability(id: string, name: string, handler?: CapabilityHandler): Character {
    if (!new RegExp(ID_PATTERN).test(name)) throw new CouncilError(`capability "${name}" is not a valid id`);
    if (handler) this.registerCapability(name, handler);
    const a = this.agent(id);
    if (!a.capabilities.includes(name)) a.capabilities.push(name);
    return a;
  }

  /** Changes an agent's role, parameters, persona or capabilities. */
  customize(id: string, u: AgentUpdate): Character {
    const a = this.agent(id);
    if (u.role !== undefined) a.role = u.role;
    if (u.name !== undefined) a.name = u.name;
    if (u.node !== undefined) a.node = u.node;
    if (u.persona !== undefined) a.persona.description = u.persona;
    if (u.params) {
      const p = u.params;
      for (const k of ['riskTolerance', 'talkativeness'] as const) {
        const v = p[k];
        if (v !== undefined) {
          if (!(v >= 0 && v <= 1)) throw new CouncilError(`${k} must be between 0 and 1 (got ${v})`);
          a.traits[k] = v;
        }
      }
      if (p.analysisDepth !== undefined) {
        if (!['low', 'medium', 'high'].includes(p.analysisDepth)) throw new CouncilError(`analysisDepth must be low, medium or high`);
        a.traits.analysisDepth = p.analysisDepth;
      }
    }
    if (u.addCapability) this.addCapability(id, u.addCapability);
    if (u.removeCapability) a.capabilities = a.capabilities.filter((c) => c !== u.removeCapability);
    return a;
  }

  /** Creates an agent with a role. Its node defaults to its id (it may share a robot with another character). */
  createAgent(n: NewAgent): Character {
    if (!new RegExp(ID_PATTERN).test(n.id)) throw new CouncilError(`agent id "${n.id}" is not valid (a-z, 0-9, '-')`);
    if (this.d.cast.some((c) => c.id === n.id)) throw new CouncilError(`agent "${n.id}" exists already; customise it instead`);
    const a: Character = {
      id: n.id,
      name: n.name ?? n.id.replace(/(^|-)(\w)/g, (_, s: string, c: string) => (s ? ' ' : '') + c.toUpperCase()),
      node: n.node ?? n.id,
      role: n.role,
      persona: { description: n.persona ?? `A council member whose role is ${n.role}.`, personality: '', speakingStyle: '', language: 'en', lore: [] },
      traits: { riskTolerance: 0.5, talkativeness: 0.5, analysisDepth: 'medium' },
      gestures: {},
      capabilities: [...(n.capabilities ?? [])],
      latencyBudgetMs: DEFAULT_LATENCY_BUDGET_MS,
    };
    this.d.cast.push(a);
    if (n.params) this.customize(a.id, { params: n.params });
    return a;
  }

  /**
   * Puts a question to the council: every agent (or those named) gives its take in role order,
   * performed on stage when a performer is set; then the synthesiser gives the final answer.
   */
  async ask(question: string, o: { agents?: string[]; scene?: string; signal?: AbortSignal } = {}): Promise<CouncilResult> {
    if (this.busy) throw new CouncilError('the council is already answering a question');
    const q = question.trim();
    if (!q) throw new CouncilError('the question is empty');
    const members = (o.agents?.length ? o.agents.map((id) => this.agent(id)) : this.agents());
    if (!members.length) throw new CouncilError('the council has no agents (give cast members a role)');
    const rank = (c: Character) => { const i = ROLE_ORDER.indexOf(c.role ?? ''); return i < 0 ? ROLE_ORDER.length : i; };
    const ordered = members.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c) - rank(b.c) || a.i - b.i).map((x) => x.c);
    const synthesiser = ordered.find((c) => c.role === 'coordination') ?? ordered.find((c) => c.role === 'decision') ?? ordered.at(-1)!;
    const speakers = ordered.filter((c) => c !== synthesiser || ordered.length === 1);
    const scene = o.scene ?? 'council';
    const present = members.map((c) => c.id);
    this.busy = true;
    try {
      this.d.memories?.event(present, { at: this.d.clock.now(), scene, text: `The council was asked: ${q}`, kind: 'council', importance: 0.8 });
      const takes: CouncilTake[] = [];
      let pending = this.take(q, speakers[0]!, 'council-take', takes, members, o.signal);
      for (let i = 0; i < speakers.length; i++) {
        const take = await pending;
        takes.push(take);
        this.remember(present, scene, take);
        const next = speakers[i + 1];
        pending = next ? this.take(q, next, 'council-take', takes, members, o.signal) : this.take(q, synthesiser, 'council-synthesis', takes, members, o.signal);
        await this.perform(speakers[i]!, take, scene, o.signal);
      }
      const answer = await pending;
      this.remember(present, scene, answer);
      await this.perform(synthesiser, answer, scene, o.signal);
      return { question: q, takes, answer, stats: this.stats.snapshot() };
    } finally {
      this.busy = false;
    }
  }

  private remember(present: string[], scene: string, t: CouncilTake): void {
    this.d.memories?.line(present, { at: this.d.clock.now(), scene, speaker: t.agent, speakerName: t.name, text: t.line, emotion: t.emotion, importance: 0.6 });
  }

  private async perform(agent: Character, t: CouncilTake, scene: string, signal?: AbortSignal): Promise<void> {
    if (!this.d.performer) return;
    const turn: Turn = { speaker: agent.id, line: t.line, emotion: t.emotion as Turn['emotion'], intensity: t.intensity };
    await this.d.performer.perform({ character: agent, turn, scene }, signal);
  }

  private async take(question: string, agent: Character, task: 'council-take' | 'council-synthesis', takes: CouncilTake[], members: Character[], signal?: AbortSignal): Promise<CouncilTake> {
    const role = task === 'council-synthesis' ? 'coordination' : agent.role ?? 'member';
    const roleInstruction = task === 'council-synthesis'
      ? `${ROLE_INSTRUCTIONS.coordination} Give the council's final answer to the question in one or two sentences.`
      : ROLE_INSTRUCTIONS[role] ?? `${role} — give your take from that point of view.`;
    const context: string[] = [];
    for (const cap of agent.capabilities) {
      const h = this.handlers.get(cap);
      if (!h) continue;
      const fact = await Promise.resolve(h(question, agent)).catch(() => null);
      if (fact) context.push(fact);
    }
    const mem = this.d.memories?.get(agent.id).retrieve(question, 120, this.d.clock.now(), { exclude: (o) => o.kind === 'council' }) ?? [];
    context.push(...mem.filter((m) => m.kind !== 'note').slice(-3).map((m) => m.text));
    const maxAttempts = this.d.maxAttempts ?? 3;
    const base = { agent: agent.id, name: agent.name, role: task === 'council-synthesis' ? 'synthesis' : role, context };
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const req = councilPrompt({ style: this.d.style ?? 'play', task, question, agent, roleInstruction, context, takes: takes.map((t) => ({ name: t.name, role: t.role, text: t.line })) });
      try {
        // Decoded under the turn's schema like an improvised turn (no gestures in council).
        const schema = this.d.constrained === false ? {} : { responseSchema: turnResponseSchema({ speaker: agent, gestures: [] }) };
        const raw = await completeText(this.d.backend, { ...req, ...schema, maxTokens: 90, temperature: 0.7, seed: (this.d.seed ?? 1) * 7919 + takes.length * 13 + attempt, ...(signal ? { signal } : {}) });
        const r = parseTurn(raw, agent, members.includes(agent) ? members : [...members, agent], { continuation: (this.d.style ?? 'play') === 'play' });
        this.stats.record(r);
        if (r.turn) return { ...base, line: r.turn.line, emotion: r.turn.emotion, intensity: r.turn.intensity, source: 'model', attempts: attempt };
      } catch (e) {
        if ((e as Error).name === 'AbortError') throw e;
      }
      if (attempt < maxAttempts) this.stats.regenerated++;
    }
    this.stats.fallbacks++;
    if (agent.persona.language?.toLowerCase().startsWith('ja')) {
      // A Japanese agent's fallback stays Japanese (original lines).
      const jaLine = task === 'council-synthesis'
        ? `私たちの答え：${takes.find((t) => t.role === 'decision')?.line.replace(/[。！!.]+$/, '') ?? 'みんなで一緒に進む'}。ただし慎重に。`
        : (FALLBACK_TAKE_JA[role] ?? '慎重に進むべきだと思う。');
      const je = inferEmotion(jaLine);
      return { ...base, line: jaLine, emotion: je.emotion, intensity: je.intensity, source: 'fallback', attempts: maxAttempts };
    }
    const topic = question.replace(/[?.!]+$/, '').split(/\s+/).filter((w) => w.length > 3).slice(-1)[0]?.toLowerCase() ?? 'question';
    const line = task === 'council-synthesis'
      ? `Our answer: ${takes.find((t) => t.role === 'decision')?.line.replace(/[.!]+$/, '').toLowerCase() ?? 'we go ahead together'}, with care.`
      : (FALLBACK_TAKE[role] ?? ((t: string) => `On the ${t}: I would go carefully.`))(topic);
    const e = inferEmotion(line);
    return { ...base, line, emotion: e.emotion, intensity: e.intensity, source: 'fallback', attempts: maxAttempts };
  }
}
