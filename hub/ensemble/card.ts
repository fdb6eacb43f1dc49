/**
 * Character Card V2 (spec "chara_card_v2", as SillyTavern and others write them) in and out.
 * Kuroko's own data sits under data.extensions.kuroko: {id, node, voice, role, gestures, traits,
 * capabilities, latencyBudgetMs}. Every key Kuroko does not know (at the top, in data, in
 * extensions, in extensions.kuroko, in character_book) survives a read and a write.
 */
import type { Character, LoreEntry, AnalysisDepth } from './character.ts';
import { DEFAULT_LATENCY_BUDGET_MS } from './character.ts';

type Json = Record<string, unknown>;

export interface CardV2 {
  spec: 'chara_card_v2';
  spec_version: string;
  data: {
    name: string;
    description: string;
    personality: string;
    scenario: string;
    first_mes: string;
    mes_example: string;
    creator_notes?: string;
    system_prompt: string;
    post_history_instructions: string;
    alternate_greetings: string[];
    tags: string[];
    creator?: string;
    character_version?: string;
    character_book?: { entries: { keys: string[]; content: string; [k: string]: unknown }[]; [k: string]: unknown };
    extensions: Json & { kuroko?: KurokoExtension };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface KurokoExtension {
  id?: string;
  node?: string;
  voice?: string;
  role?: string;
  speakingStyle?: string;
  language?: string;
  gestures?: Record<string, string>;
  traits?: { riskTolerance?: number; talkativeness?: number; analysisDepth?: AnalysisDepth };
  capabilities?: string[];
  latencyBudgetMs?: number;
  [k: string]: unknown;
}

export class CardError extends Error {}

const slug = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'character';

/** Reads a card (object or JSON text). Throws CardError naming what is wrong. */
export function parseCard(input: string | unknown): { character: Character; card: CardV2 } {
  const raw = typeof input === 'string' ? JSON.parse(input) as unknown : input;
  if (!raw || typeof raw !== 'object') throw new CardError('a character card must be a JSON object');
  const card = raw as CardV2;
  if (card.spec !== 'chara_card_v2') throw new CardError(`not a Character Card V2: spec is ${JSON.stringify(card.spec)}, expected "chara_card_v2"`);
  const d = card.data;
  if (!d || typeof d !== 'object' || typeof d.name !== 'string' || !d.name.trim()) throw new CardError('card.data.name is missing');
  const k: KurokoExtension = (d.extensions?.kuroko as KurokoExtension | undefined) ?? {};
  const lore: LoreEntry[] = (d.character_book?.entries ?? []).filter((e) => e && Array.isArray(e.keys) && typeof e.content === 'string')
    .map((e) => ({ keys: e.keys.map(String), content: e.content }));
  const id = k.id ?? slug(d.name);
  const character: Character = {
    id,
    name: d.name,
    node: k.node ?? id,
    ...(k.role ? { role: k.role } : {}),
    persona: {
      description: str(d.description),
      personality: str(d.personality),
      speakingStyle: k.speakingStyle ?? '',
      language: k.language ?? 'en',
      ...(d.scenario ? { scenario: d.scenario } : {}),
      ...(d.first_mes ? { greeting: d.first_mes } : {}),
      ...(d.mes_example ? { exampleDialogue: d.mes_example } : {}),
      ...(d.system_prompt ? { systemPrompt: d.system_prompt } : {}),
      ...(d.post_history_instructions ? { postHistoryInstructions: d.post_history_instructions } : {}),
      lore,
    },
    ...(k.voice ? { voice: k.voice } : {}),
    traits: {
      riskTolerance: num(k.traits?.riskTolerance, 0.5),
      talkativeness: num(k.traits?.talkativeness, 0.5),
      analysisDepth: k.traits?.analysisDepth ?? 'medium',
    },
    gestures: { ...(k.gestures ?? {}) },
    capabilities: [...(k.capabilities ?? [])],
    latencyBudgetMs: k.latencyBudgetMs ?? DEFAULT_LATENCY_BUDGET_MS,
  };
  return { character, card };
}

/**
 * Writes a character as a card. With `base` (the card it was read from) every key not Kuroko's
 * to change is kept as it was, so parseCard → toCard gives back the same card.
 */
export function toCard(ch: Character, base?: CardV2): CardV2 {
  const b: CardV2 = base ? structuredClone(base) : {
    spec: 'chara_card_v2', spec_version: '2.0',
    data: { name: '', description: '', personality: '', scenario: '', first_mes: '', mes_example: '', system_prompt: '', post_history_instructions: '', alternate_greetings: [], tags: [], extensions: {} },
  };
  const d = b.data;
  d.name = ch.name;
  d.description = ch.persona.description;
  d.personality = ch.persona.personality;
  d.scenario = ch.persona.scenario ?? d.scenario ?? '';
  d.first_mes = ch.persona.greeting ?? d.first_mes ?? '';
  d.mes_example = ch.persona.exampleDialogue ?? d.mes_example ?? '';
  d.system_prompt = ch.persona.systemPrompt ?? d.system_prompt ?? '';
  d.post_history_instructions = ch.persona.postHistoryInstructions ?? d.post_history_instructions ?? '';
  d.alternate_greetings ??= [];
  d.tags ??= [];
  if (ch.persona.lore.length || d.character_book) {
    const old = d.character_book?.entries ?? [];
    d.character_book = {
      ...(d.character_book ?? {}),
      entries: ch.persona.lore.map((l, i) => ({ ...(old[i] ?? {}), keys: l.keys, content: l.content })),
    };
  }
  d.extensions ??= {};
  const prev: KurokoExtension = d.extensions.kuroko ?? {};
  const k: KurokoExtension = { ...prev };
  const set = <K extends keyof KurokoExtension>(key: K, v: KurokoExtension[K] | undefined, isDefault: boolean) => {
    if (v === undefined || (isDefault && prev[key] === undefined)) delete k[key];
    else k[key] = v;
  };
  set('id', ch.id, ch.id === slug(ch.name));
  set('node', ch.node, ch.node === ch.id);
  set('voice', ch.voice, false);
  set('role', ch.role, false);
  set('speakingStyle', ch.persona.speakingStyle || undefined, false);
  set('language', ch.persona.language, ch.persona.language === 'en');
  set('gestures', Object.keys(ch.gestures).length ? { ...ch.gestures } : undefined, false);
  const traits: NonNullable<KurokoExtension['traits']> = { ...(prev.traits ?? {}) };
  const defaults = { riskTolerance: 0.5, talkativeness: 0.5, analysisDepth: 'medium' } as const;
  for (const key of Object.keys(defaults) as (keyof typeof defaults)[]) {
    const v = ch.traits[key];
    if (v !== defaults[key] || (prev.traits && key in prev.traits)) (traits as Record<string, unknown>)[key] = v;
  }
  set('traits', Object.keys(traits).length ? traits : undefined, false);
  set('capabilities', ch.capabilities.length ? [...ch.capabilities] : undefined, false);
  set('latencyBudgetMs', ch.latencyBudgetMs, ch.latencyBudgetMs === DEFAULT_LATENCY_BUDGET_MS);
  if (Object.keys(k).length) d.extensions.kuroko = k;
  else delete d.extensions.kuroko;
  return b;
}

function str(v: unknown): string { return typeof v === 'string' ? v : ''; }
function num(v: unknown, d: number): number { return typeof v === 'number' && Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : d; }
