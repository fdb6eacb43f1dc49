/**
 * Loads a show file and checks what the schema cannot: unique ids, references to the cast,
 * and the fields each kind of cue needs. Errors name the file, line and field.
 */
import { loadYamlDocument, parseYamlDocument, DocumentError } from '../../protocol/yaml-document.ts';
import { Show, type ShowT, type ShowCueT } from './schema.ts';

export { DocumentError };

function cueProblems(c: ShowCueT, where: string, cast: Set<string>): string[] {
  const out: string[] = [];
  const need = (field: keyof ShowCueT, why: string) => { if (c[field] === undefined) out.push(`[${where}] a ${c.kind} cue needs "${field}" (${why})`); };
  if (c.kind === 'improv' || c.kind === 'council') return ensembleCueProblems(c, where, cast);
  if (c.kind !== 'wait') {
    need('character', 'who performs it');
    if (c.character && !cast.has(c.character)) out.push(`[${where}.character] "${c.character}" is not in the cast (cast: ${[...cast].join(', ')})`);
  }
  switch (c.kind) {
    case 'line': need('text', 'the words to speak'); break;
    case 'motion': if (!c.servos && !c.motors) out.push(`[${where}] a motion cue needs "servos" or "motors"`); break;
    case 'light': need('led', 'which LED'); need('brightness', '0..1'); break;
    case 'sound': need('sound', 'the sound name'); need('duration', 'seconds'); break;
    case 'gesture': need('gesture', 'a gesture name from the node profile'); break;
    case 'wait': need('duration', 'seconds'); break;
  }
  return out;
}

/** improv and council cues: who is on stage must be in the cast, beats and must-say lines must fit. */
function ensembleCueProblems(c: ShowCueT, where: string, cast: Set<string>): string[] {
  const out: string[] = [];
  const notCast = (id: string, at: string) => { if (!cast.has(id)) out.push(`[${where}.${at}] "${id}" is not in the cast (cast: ${[...cast].join(', ')})`); };
  if (!c.onStage?.length) out.push(`[${where}] a ${c.kind} cue needs "onStage" (the characters taking part)`);
  const on = new Set(c.onStage ?? []);
  c.onStage?.forEach((id, i) => notCast(id, `onStage.${i}`));
  if (c.kind === 'council') {
    if (!c.question) out.push(`[${where}] a council cue needs "question"`);
    return out;
  }
  if (!c.premise) out.push(`[${where}] an improv cue needs "premise" (what the scene is about)`);
  if (c.maxTurns === undefined) out.push(`[${where}] an improv cue needs "maxTurns" (a cap on the number of lines)`);
  if (c.maxMinutes === undefined) out.push(`[${where}] an improv cue needs "maxMinutes" (a cap on its length)`);
  const beatIds = new Set<string>();
  c.beats?.forEach((b, i) => {
    if (beatIds.has(b.id)) out.push(`[${where}.beats.${i}.id] beat "${b.id}" appears twice`);
    beatIds.add(b.id);
    b.by?.forEach((id, j) => { if (!on.has(id)) out.push(`[${where}.beats.${i}.by.${j}] "${id}" is not on stage`); });
    if (b.line && !on.has(b.line.character)) out.push(`[${where}.beats.${i}.line.character] "${b.line.character}" is not on stage`);
  });
  c.mustSay?.forEach((m, i) => {
    if (!on.has(m.character)) out.push(`[${where}.mustSay.${i}.character] "${m.character}" is not on stage`);
    if (m.afterBeat && !beatIds.has(m.afterBeat)) out.push(`[${where}.mustSay.${i}.afterBeat] no beat "${m.afterBeat}" in this cue`);
  });
  const needed = (c.beats?.length ?? 0) + (c.mustSay?.length ?? 0);
  if (c.maxTurns !== undefined && c.maxTurns < needed) out.push(`[${where}.maxTurns] ${c.maxTurns} turns cannot hit ${c.beats?.length ?? 0} beats and ${c.mustSay?.length ?? 0} must-say lines`);
  return out;
}

export function showProblems(s: ShowT): string[] {
  const out: string[] = [];
  const cast = new Set<string>();
  const nodes = new Map<string, string>();
  s.cast.forEach((c, i) => {
    if (cast.has(c.id)) out.push(`[cast.${i}.id] character "${c.id}" appears twice`);
    cast.add(c.id);
    const prev = nodes.get(c.node);
    if (prev) out.push(`[cast.${i}.node] node "${c.node}" is already bound to ${prev}; each character needs its own node`);
    nodes.set(c.node, c.id);
  });
  const scenes = new Set<string>();
  s.scenes.forEach((sc, i) => {
    if (scenes.has(sc.id)) out.push(`[scenes.${i}.id] scene "${sc.id}" appears twice`);
    scenes.add(sc.id);
    const cues = new Set<string>();
    sc.cues.forEach((c, j) => {
      const where = `scenes.${i}.cues.${j}`;
      if (cues.has(c.id)) out.push(`[${where}.id] cue "${c.id}" appears twice in scene "${sc.id}"`);
      cues.add(c.id);
      out.push(...cueProblems(c, where, cast));
    });
  });
  return out;
}

export function loadShow(file: string): ShowT {
  return loadYamlDocument<ShowT>(file, Show, showProblems).value;
}

export function parseShow(file: string, text: string): ShowT {
  return parseYamlDocument<ShowT>(file, text, Show, showProblems).value;
}
