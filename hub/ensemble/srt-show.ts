/**
 * A whole show from "Speaker: text" subtitles: the cast is made from the speakers (ids derived from
 * their names, or given), so any such .srt becomes a performable show in one command.
 */
import { stringify } from 'yaml';
import type { SrtLine } from '../srt.ts';
import type { ShowT, CharacterT } from '../show/schema.ts';
import { srtToScene, type SrtImportOptions } from './replay.ts';
import { isId } from '../../protocol/ids.ts';

const MIN_CAST = 4;
const MAX_CAST = 12;

const slug = (s: string) => s.toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);

/** "Alice=alice,Bob Smith=bob" → speaker → id. Throws naming a bad entry. */
export function parseIdMap(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.lastIndexOf('=');
    const speaker = part.slice(0, eq).trim();
    const id = part.slice(eq + 1).trim();
    if (eq < 1 || !isId(id)) throw new Error(`--ids: "${part}" is not SPEAKER=id with an id of a-z, 0-9 and - (e.g. "Lady Macbeth=lady-macbeth")`);
    m.set(speaker, id);
  }
  return m;
}

/**
 * The cast, one character per speaker in order of first line. A show needs 4 to 12 characters:
 * fewer speakers get silent extras (extra-1, …) so the show still loads; more than 12 is refused.
 */
export function castFromSpeakers(lines: readonly SrtLine[], ids = new Map<string, string>()): { cast: CharacterT[]; extras: number } {
  const speakers = [...new Set(lines.map((l) => l.speaker))];
  if (speakers.length > MAX_CAST) throw new Error(`the subtitles have ${speakers.length} speakers (${speakers.join(', ')}); a show has at most ${MAX_CAST} characters`);
  const unknown = [...ids.keys()].filter((s) => !speakers.includes(s));
  if (unknown.length) throw new Error(`--ids names speakers the subtitles do not have: ${unknown.join(', ')} (speakers: ${speakers.join(', ')})`);
  const taken = new Set<string>();
  const cast = speakers.map((name, i) => {
    let id = ids.get(name) ?? (slug(name) || `speaker-${i + 1}`);
    // Names that slug alike ("Ann", "ANN!") or not at all (日本語) still get distinct ids.
    for (let n = 2; taken.has(id); n++) id = `${(slug(name) || 'speaker').slice(0, 58)}-${n}`;
    taken.add(id);
    return { id, name: name.slice(0, 80), node: id };
  });
  let extras = 0;
  while (cast.length < MIN_CAST) {
    extras++;
    let id = `extra-${extras}`;
    while (taken.has(id)) id = `${id}-x`;
    taken.add(id);
    cast.push({ id, name: `Extra ${extras}`, node: id });
  }
  return { cast, extras };
}

export function showFromSrt(lines: readonly SrtLine[], o: SrtImportOptions & { showId: string; showTitle: string; ids?: Map<string, string> }): { show: ShowT; extras: number } {
  const { cast, extras } = castFromSpeakers(lines, o.ids);
  const scene = srtToScene(lines, cast, o);
  return { show: { kuroko: 1, show: o.showId, title: o.showTitle, cast, scenes: [scene] }, extras };
}

export function showYaml(show: ShowT, source: string): string {
  return `# A show made from ${source} by kuroko ensemble srt-import --cast-from-speakers.\n${stringify(show, { lineWidth: 0 })}`;
}
