/**
 * What each character remembers: a stream of observations (lines heard on stage, its own lines,
 * stage events, its node's sensor events), retrieved for a prompt by recency + importance +
 * relevance (as Generative Agents and AI Town do) within a token budget, with a running summary
 * per scene of what fell out of the recent window. Only what a character witnessed goes in:
 * the stage (improv.ts) tells only the characters on stage.
 */
import { estimateTokens } from './backend.ts';
import { words } from './words.ts';

export type ObservationKind = 'heard' | 'said' | 'event' | 'sensor' | 'council' | 'note';

export interface Observation {
  id: number;
  at: number;
  scene: string;
  kind: ObservationKind;
  text: string;
  /** 0..1 */
  importance: number;
  speaker?: string;
  emotion?: string;
}

export interface MemoryOptions {
  /** Recency halves every this many ms of show time (default 90 s). */
  halfLifeMs?: number;
  weights?: { recency: number; importance: number; relevance: number };
  /** After this many lines heard in a scene, the oldest beyond the window are folded into the summary. */
  window?: number;
  /** Cap of the per-scene summary in tokens. */
  summaryTokens?: number;
  /** The most observations kept (default 2000): a long run of shows must not grow the hub's heap. */
  maxObservations?: number;
}

const STOP = new Set('a an and are as at be but by do for from go had has have he her him his i if in is it its me my no not of on or our she so that the their them then there they this to up us was we were what when who will with you your yes'.split(' '));

export function keywords(text: string): Set<string> {
  const out = new Set<string>();
  // Japanese has no spaces: its words come from the segmenter (nouns in kanji/katakana, longer kana words).
  if (/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u.test(text)) {
    for (const w of words(text, 'ja')) if (/[\p{Script=Han}\p{Script=Katakana}]/u.test(w) ? true : w.length >= 3) out.add(w);
    text = text.replace(/[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}ー]+/gu, ' ');
  }
  for (const w of text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []) {
    const s = w.replace(/'s$/, '').replace(/(ing|ed|es|s)$/, (m) => (w.length > m.length + 3 ? '' : m));
    if (s.length > 2 && !STOP.has(s)) out.add(s);
  }
  return out;
}

export function relevance(query: Set<string>, text: string): number {
  if (query.size === 0) return 0;
  const k = keywords(text);
  let hit = 0;
  for (const w of k) if (query.has(w)) hit++;
  return hit === 0 ? 0 : hit / Math.sqrt(query.size * Math.max(1, k.size));
}

export class CharacterMemory {
  private readonly stream: Observation[] = [];
  private readonly summaries = new Map<string, string[]>();
  private readonly folded = new Map<string, number>();
  private nextId = 0;
  readonly halfLifeMs: number;
  readonly weights: { recency: number; importance: number; relevance: number };
  readonly window: number;
  readonly summaryTokens: number;
  readonly maxObservations: number;

  constructor(readonly owner: string, o: MemoryOptions = {}) {
    this.halfLifeMs = o.halfLifeMs ?? 90_000;
    // Relevance weighs most: a prompt is about the exchange at hand.
    this.weights = o.weights ?? { recency: 1, importance: 1, relevance: 3 };
    this.window = o.window ?? 8;
    this.summaryTokens = o.summaryTokens ?? 120;
    this.maxObservations = o.maxObservations ?? 2000;
  }

  observe(o: Omit<Observation, 'id' | 'importance'> & { importance?: number }): Observation {
    const obs: Observation = { ...o, id: this.nextId++, importance: clamp01(o.importance ?? defaultImportance(o.kind)) };
    this.stream.push(obs);
    if (obs.kind === 'heard' || obs.kind === 'said') this.maybeFold(obs.scene);
    while (this.stream.length > this.maxObservations) this.forgetOldest();
    return obs;
  }

  /** Drops the oldest observation; a line already folded into its scene's summary lives on there. */
  private forgetOldest(): void {
    const o = this.stream.shift()!;
    if (o.kind !== 'heard' && o.kind !== 'said') return;
    const folded = this.folded.get(o.scene) ?? 0;
    if (folded > 0) this.folded.set(o.scene, folded - 1);
  }

  all(): readonly Observation[] { return this.stream; }

  /** What this character knows of a scene: did it hear (or say) a line containing `text`? */
  knows(text: string): boolean {
    const t = text.toLowerCase();
    return this.stream.some((o) => o.text.toLowerCase().includes(t)) || [...this.summaries.values()].some((s) => s.join(' ').toLowerCase().includes(t));
  }

  score(o: Observation, query: Set<string>, now: number): number {
    const age = Math.max(0, now - o.at);
    const recency = Math.pow(0.5, age / this.halfLifeMs);
    const w = this.weights;
    return w.recency * recency + w.importance * o.importance + w.relevance * relevance(query, o.text);
  }

  /** Every observation with its score for `query`, best first. */
  rank(query: string, now: number): { o: Observation; s: number }[] {
    const q = keywords(query);
    return this.stream.map((o) => ({ o, s: this.score(o, q, now) })).sort((a, b) => b.s - a.s || b.o.id - a.o.id);
  }

  /**
   * The observations to put in a prompt about `query`: the best-scoring that fit in
   * `budgetTokens`, returned oldest first. The scene summary is not included (see summary()).
   */
  retrieve(query: string, budgetTokens: number, now: number, opts: { scene?: string; exclude?: (o: Observation) => boolean } = {}): Observation[] {
    const q = keywords(query);
    const ranked = this.stream
      .filter((o) => !opts.exclude?.(o))
      .map((o) => ({ o, s: this.score(o, q, now) }))
      .sort((a, b) => b.s - a.s || b.o.id - a.o.id);
    const picked: Observation[] = [];
    let used = 0;
    for (const { o } of ranked) {
      const cost = estimateTokens(o.text) + 2;
      if (used + cost > budgetTokens) continue;
      picked.push(o);
      used += cost;
    }
    return picked.sort((a, b) => a.id - b.id);
  }

  /** The running summary of a scene: the gist of the lines that left the recent window. */
  summary(scene: string): string {
    return (this.summaries.get(scene) ?? []).join(' ');
  }

  private maybeFold(scene: string): void {
    const lines = this.stream.filter((o) => o.scene === scene && (o.kind === 'heard' || o.kind === 'said'));
    const done = this.folded.get(scene) ?? 0;
    const excess = lines.length - this.window;
    if (excess <= done) return;
    const parts = this.summaries.get(scene) ?? [];
    for (const o of lines.slice(done, excess)) parts.push(gist(o));
    while (parts.length > 1 && estimateTokens(parts.join(' ')) > this.summaryTokens) parts.shift();
    this.summaries.set(scene, parts);
    this.folded.set(scene, excess);
  }
}

function gist(o: Observation): string {
  const clause = o.text.split(/(?<=[.!?])\s/)[0]!.slice(0, 70);
  return `${o.speaker ? `${o.speaker}: ` : ''}${clause}${/[.!?…]$/.test(clause) ? '' : '.'}`;
}

function defaultImportance(kind: ObservationKind): number {
  switch (kind) {
    case 'sensor': return 0.8;
    case 'event': return 0.5;
    case 'council': return 0.6;
    case 'note': return 0.6;
    case 'said': return 0.25;
    case 'heard': return 0.35;
  }
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

/** The memories of a whole cast; what happens on stage reaches only the characters present. */
export class MemoryBank {
  private readonly byId = new Map<string, CharacterMemory>();
  constructor(private readonly options: MemoryOptions = {}) {}

  get(id: string): CharacterMemory {
    let m = this.byId.get(id);
    if (!m) { m = new CharacterMemory(id, this.options); this.byId.set(id, m); }
    return m;
  }

  /** A line performed: the speaker said it, every other character present heard it. */
  line(present: readonly string[], o: { at: number; scene: string; speaker: string; speakerName: string; text: string; emotion?: string; importance?: number; addressed?: string | null }): void {
    for (const id of present) {
      const own = id === o.speaker;
      const importance = o.importance ?? (own ? 0.25 : o.addressed === id ? 0.7 : 0.35);
      this.get(id).observe({ at: o.at, scene: o.scene, kind: own ? 'said' : 'heard', text: o.text, speaker: o.speakerName, ...(o.emotion ? { emotion: o.emotion } : {}), importance });
    }
  }

  /** Something every present character saw (a stage event). */
  event(present: readonly string[], o: { at: number; scene: string; text: string; importance?: number; kind?: 'event' | 'council' | 'note' }): void {
    for (const id of present) this.get(id).observe({ at: o.at, scene: o.scene, kind: o.kind ?? 'event', text: o.text, ...(o.importance !== undefined ? { importance: o.importance } : {}) });
  }
}
