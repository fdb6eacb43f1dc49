/**
 * Prompts for the ensemble's model calls. Two styles: 'play' (a script ending in "NAME:", what a
 * small completion model trained on play dialogue continues best) and 'json' (chat messages asking
 * for one JSON object). A character's prompt holds only what it knows: its persona, its memories
 * (retrieved within a token budget), its summary of the scene, and the lines it heard on stage.
 * The first line of every prompt names the task, so a scripted or mock backend can branch on it.
 */
import type { ChatMessage, CompletionRequest, PromptStyle } from './backend.ts';
import { estimateTokens } from './backend.ts';
import type { Character } from './character.ts';
import type { CharacterMemory, Observation } from './memory.ts';
import type { Beat, ImprovSpec } from './director.ts';
import { EMOTIONS } from './emotion.ts';
import { languageName, lineLengthAdvice, maxLineChars } from './language.ts';
import { baseLanguage } from './words.ts';

/**
 * The language instruction for a character who does not speak English: named in English (what
 * instruction-tuned models follow best) and restated in the language itself. The first word
 * "Language:" with the bare code is what the mock improviser reads.
 */
export function languageLines(c: Character): string[] {
  const lang = baseLanguage(c.persona.language) ?? 'en';
  if (lang === 'en') return [];
  const lines = [`Language: ${lang}. ${c.name} speaks ${languageName(lang)} only: write every line in ${languageName(lang)}, ${lineLengthAdvice(lang)}.`];
  if (lang === 'ja') lines.push(`${c.name}の台詞は日本語だけで、${maxLineChars(lang)}文字以内の短い一、二文で書くこと。感情名は英語の一覧から選ぶ。`);
  return lines;
}

export interface TurnPromptInput {
  style: PromptStyle;
  title: string;
  spec: ImprovSpec;
  speaker: Character;
  onStage: readonly Character[];
  memory: CharacterMemory;
  now: number;
  /** The next beat, when this speaker should steer toward it. */
  steer?: Beat | null;
  gestures: readonly string[];
  /** Token budget for the whole prompt (default 700). */
  budgetTokens?: number;
  recentLines?: number;
  /** A note for a regeneration ("your last answer was not valid: ..."). */
  retryNote?: string;
}

const level = (x: number) => (x >= 0.7 ? 'high' : x <= 0.3 ? 'low' : 'medium');

export function personaText(c: Character): string {
  const p = c.persona;
  const parts = [
    `${c.name}${c.role ? ` (${c.role})` : ''}: ${p.description}`.trim(),
    p.personality && p.personality !== p.description ? `Personality: ${p.personality}` : '',
    p.speakingStyle ? `Speaking style: ${p.speakingStyle}` : '',
    `Risk tolerance: ${level(c.traits.riskTolerance)}. Analysis depth: ${c.traits.analysisDepth}.`,
  ];
  return parts.filter(Boolean).join('\n');
}

/** The lines of this scene the character heard or said, newest last (its own view of the stage). */
export function sceneLines(memory: CharacterMemory, scene: string, n: number): Observation[] {
  return memory.all().filter((o) => o.scene === scene && (o.kind === 'heard' || o.kind === 'said')).slice(-n);
}

export function turnPrompt(i: TurnPromptInput): Pick<CompletionRequest, 'prompt' | 'messages' | 'stop'> {
  const budget = i.budgetTokens ?? 700;
  const recent = sceneLines(i.memory, i.spec.id, i.recentLines ?? 6);
  const recentIds = new Set(recent.map((o) => o.id));
  const cast = i.onStage.map((c) => `${c.name}${c.role ? ` (${c.role})` : ''}`).join(', ');
  const summary = i.memory.summary(i.spec.id);
  const steer = i.steer ? `Steer toward: ${i.steer.goal} Mention: ${i.steer.keywords.slice(0, 3).join(', ')}.` : '';
  const lore = i.speaker.persona.lore.filter((l) => l.keys.some((k) => recent.some((o) => o.text.toLowerCase().includes(k.toLowerCase())))).map((l) => l.content);
  const head = [
    `Task: improv turn for ${i.speaker.name}`,
    `# ${i.title}: improvised scene "${i.spec.id}"`,
    `Premise: ${i.spec.premise}`,
    `On stage: ${cast}`,
    personaText(i.speaker),
    ...languageLines(i.speaker),
    ...(i.speaker.persona.scenario ? [`Scenario: ${i.speaker.persona.scenario}`] : []),
    ...(i.speaker.persona.systemPrompt ? [i.speaker.persona.systemPrompt] : []),
    ...lore.map((l) => `Lore: ${l}`),
  ];
  const lineOf = (o: Observation) => `${(o.speaker ?? i.speaker.name).toUpperCase()}: ${o.emotion ? `(${o.emotion}) ` : ''}${o.text}`;
  const script = recent.map(lineOf);
  const tail = [
    ...(summary ? [`Story so far: ${summary}`] : []),
    ...(steer ? [steer] : []),
    ...(i.speaker.persona.postHistoryInstructions ? [i.speaker.persona.postHistoryInstructions] : []),
    ...(i.retryNote ? [i.retryNote] : []),
  ];
  const fixed = estimateTokens([...head, ...script, ...tail].join('\n')) + 80;
  const memBudget = Math.max(0, budget - fixed);
  const query = [...recent.map((o) => o.text), i.steer?.goal ?? '', i.spec.premise].join(' ');
  const memories = i.memory.retrieve(query, memBudget, i.now, { exclude: (o) => recentIds.has(o.id) || (o.scene === i.spec.id && (o.kind === 'heard' || o.kind === 'said')) });
  const memText = memories.length ? [`${i.speaker.name} remembers:`, ...memories.map((o) => `- ${o.text}`)] : [];
  const gestures = i.gestures.length ? i.gestures.join(', ') : 'none';
  if (i.style === 'play') {
    const prompt = [
      ...head, ...memText, ...tail,
      `Format: NAME: (emotion intensity) line *gesture*. Emotions: ${EMOTIONS.join(', ')}. Gestures: ${gestures}.`,
      '',
      ...script,
      `${i.speaker.name.toUpperCase()}:`,
    ].join('\n');
    return { prompt, stop: ['\n\n'] };
  }
  const system = [...head, ...memText,
    `Answer with one JSON object and nothing else: {"speaker": "${i.speaker.name}", "line": "${lineLengthAdvice(i.speaker.persona.language)}${baseLanguage(i.speaker.persona.language) !== 'en' ? ` in ${languageName(i.speaker.persona.language)}` : ''}", "emotion": one of ${EMOTIONS.join('|')}, "intensity": 0..1, "gesture": one of ${gestures} or omit}.`].join('\n');
  const user = [...(script.length ? ['The scene so far:', ...script] : ['The scene begins.']), ...tail, `Reply as ${i.speaker.name}.`].join('\n');
  const messages: ChatMessage[] = [{ role: 'system', content: system }, { role: 'user', content: user }];
  return { messages };
}

export interface CouncilPromptInput {
  style: PromptStyle;
  task: 'council-take' | 'council-synthesis';
  question: string;
  agent: Character;
  roleInstruction: string;
  context: string[];
  takes?: { name: string; role: string; text: string }[];
}

export function councilPrompt(i: CouncilPromptInput): Pick<CompletionRequest, 'prompt' | 'messages' | 'stop'> {
  const head = [
    `Task: ${i.task} for ${i.agent.name}`,
    `Council question: ${i.question}`,
    personaText(i.agent),
    ...languageLines(i.agent),
    `Role: ${i.roleInstruction}`,
    ...(i.agent.capabilities.length ? [`Capabilities: ${i.agent.capabilities.join(', ')}`] : []),
    ...i.context.map((c) => `Known: ${c}`),
  ];
  const takes = (i.takes ?? []).map((t) => `${t.name.toUpperCase()}: (${t.role}) ${t.text}`);
  if (i.style === 'play') {
    return { prompt: [...head, `Format: NAME: (emotion intensity) answer in one or two sentences.`, '', ...takes, `${i.agent.name.toUpperCase()}:`].join('\n'), stop: ['\n\n'] };
  }
  return {
    messages: [
      { role: 'system', content: [...head, `Answer with one JSON object: {"speaker": "${i.agent.name}", "line": "...", "emotion": one of ${EMOTIONS.join('|')}, "intensity": 0..1}.`].join('\n') },
      { role: 'user', content: [...(takes.length ? ['Takes so far:', ...takes] : []), i.task === 'council-synthesis' ? 'Give the council\'s final answer.' : 'Give your take.'].join('\n') },
    ],
  };
}

export function labelPrompt(style: PromptStyle, line: string): Pick<CompletionRequest, 'prompt' | 'messages' | 'stop'> {
  const ask = `Task: label emotion\nLine: ${line}\nWhich one emotion does the speaker show? One of: ${EMOTIONS.join(', ')}.`;
  if (style === 'play') return { prompt: `${ask}\nEMOTION:`, stop: ['\n'] };
  return { messages: [{ role: 'system', content: 'Answer with one JSON object {"emotion": "...", "intensity": 0..1}.' }, { role: 'user', content: ask }] };
}

/** The text of a request, whichever form it has (for backends that only take a prompt). */
export function requestText(req: Pick<CompletionRequest, 'prompt' | 'messages'>): string {
  return req.prompt ?? (req.messages ?? []).map((m) => m.content).join('\n');
}
