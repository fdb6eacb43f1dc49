/**
 * A character of the ensemble: who it is (persona), how it sounds (voice, language, speaking
 * style), where it performs (its node), and the traits the director and council read.
 * Built from a show file's cast entry, or from a Character Card V2 (card.ts).
 */
import type { CharacterT } from '../show/schema.ts';

export type AnalysisDepth = 'low' | 'medium' | 'high';

export interface LoreEntry { keys: string[]; content: string }

export interface Persona {
  description: string;
  personality: string;
  speakingStyle: string;
  language: string;
  scenario?: string;
  greeting?: string;
  exampleDialogue?: string;
  systemPrompt?: string;
  postHistoryInstructions?: string;
  lore: LoreEntry[];
}

export interface Traits {
  /** 0 = cautious, 1 = reckless: colours council takes and the mock improviser's lines. */
  riskTolerance: number;
  /** 0..1, as SillyTavern's talkativeness: the chance to speak up when not addressed. */
  talkativeness: number;
  analysisDepth: AnalysisDepth;
}

export interface Character {
  id: string;
  name: string;
  node: string;
  role?: string;
  persona: Persona;
  voice?: string;
  traits: Traits;
  /** Semantic gesture (nod, shake, point, think, ...) → this node's gesture name. Missing: same name. */
  gestures: Record<string, string>;
  /** Council capabilities (e.g. "sensors", "weather"); see council.ts. */
  capabilities: string[];
  /** How long this character may take to produce a line once it is due, before the filler/fallback. */
  latencyBudgetMs: number;
}

export const DEFAULT_LATENCY_BUDGET_MS = 1500;

/** The cast entry of a show file as a Character (the extended fields are all optional). */
export function characterFromCast(c: CharacterT): Character {
  return {
    id: c.id,
    name: c.name,
    node: c.node,
    ...(c.role ? { role: c.role } : {}),
    persona: {
      description: c.description ?? c.persona ?? '',
      personality: c.personality ?? (c.description ? c.persona ?? '' : ''),
      speakingStyle: c.speakingStyle ?? '',
      language: c.language ?? 'en',
      lore: [],
    },
    ...(c.voice ? { voice: c.voice } : {}),
    traits: {
      riskTolerance: c.riskTolerance ?? 0.5,
      talkativeness: c.talkativeness ?? 0.5,
      analysisDepth: c.analysisDepth ?? 'medium',
    },
    gestures: { ...(c.gestures ?? {}) },
    capabilities: [...(c.capabilities ?? [])],
    latencyBudgetMs: c.latencyBudgetMs ?? DEFAULT_LATENCY_BUDGET_MS,
  };
}

/** Merges a cast entry over a character loaded from a card: the show file wins where it says something. */
export function overlayCast(base: Character, c: CharacterT): Character {
  const fromCast = characterFromCast(c);
  return {
    ...base,
    id: c.id,
    name: c.name,
    node: c.node,
    ...(c.role ? { role: c.role } : {}),
    ...(c.voice ? { voice: c.voice } : {}),
    persona: {
      ...base.persona,
      ...(c.description || c.persona ? { description: fromCast.persona.description } : {}),
      ...(c.personality ? { personality: c.personality } : {}),
      ...(c.speakingStyle ? { speakingStyle: c.speakingStyle } : {}),
      ...(c.language ? { language: c.language } : {}),
    },
    traits: {
      riskTolerance: c.riskTolerance ?? base.traits.riskTolerance,
      talkativeness: c.talkativeness ?? base.traits.talkativeness,
      analysisDepth: c.analysisDepth ?? base.traits.analysisDepth,
    },
    gestures: { ...base.gestures, ...(c.gestures ?? {}) },
    capabilities: [...new Set([...base.capabilities, ...(c.capabilities ?? [])])],
    latencyBudgetMs: c.latencyBudgetMs ?? base.latencyBudgetMs,
  };
}

/** The node gesture for a semantic gesture of this character. */
export function nodeGesture(ch: Character, semantic: string): string {
  return ch.gestures[semantic] ?? semantic;
}

/** Finds a character by id or (case-insensitive) name; null if none. */
export function findCharacter(cast: readonly Character[], key: string): Character | null {
  const k = key.trim().toLowerCase();
  return cast.find((c) => c.id === k) ?? cast.find((c) => c.name.toLowerCase() === k)
    ?? cast.find((c) => c.name.toLowerCase().split(/\s+/)[0] === k) ?? null;
}
