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
