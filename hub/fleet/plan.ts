/**
 * The adoption plan (YAML): which computer becomes which node, playing which character, with
 * which hardware profile. Checked once, here, with file and field in every error.
 *
 *   show: blade
 *   broker: mqtt://hub.local:1883
 *   nodes:
 *     - { name: pi-kenzaki, node: kenzaki, character: kenzaki, profile: profiles/kenzaki.yaml }
 *     - { node: aikawa, character: aikawa, profile: profiles/aikawa.yaml }   # no name: the next new computer seen
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { isId } from '../../protocol/ids.ts';
import { parseProfile } from '../../firmware-config/profile.ts';

export interface PlannedNode { name?: string; node: string; character?: string; profileFile: string; profileText: string }
export interface AdoptPlan { show?: string; broker?: string; nodes: PlannedNode[] }

export class PlanError extends Error {}

export function loadPlan(file: string): AdoptPlan {
  let doc: unknown;
  try { doc = parse(readFileSync(file, 'utf8')); } catch (e) { throw new PlanError(`${file}: ${(e as Error).message}`); }
  const d = doc as { show?: unknown; broker?: unknown; nodes?: unknown };
  if (!d || typeof d !== 'object' || !Array.isArray(d.nodes) || d.nodes.length === 0) throw new PlanError(`${file}: needs a "nodes:" list (see kuroko fleet adopt --help)`);
  if (d.show !== undefined && !isId(d.show)) throw new PlanError(`${file}: show "${String(d.show)}" is not an id ([a-z0-9-])`);
  if (d.broker !== undefined && (typeof d.broker !== 'string' || !/^mqtts?:\/\//.test(d.broker))) throw new PlanError(`${file}: broker must be an mqtt:// or mqtts:// URL`);
  const ids = new Set<string>();
  const names = new Set<string>();
  const nodes = (d.nodes as Array<Record<string, unknown>>).map((n, i) => {
    const where = `${file}: nodes[${i}]`;
    for (const k of Object.keys(n ?? {})) if (!['name', 'node', 'character', 'profile'].includes(k)) throw new PlanError(`${where}: unknown field "${k}" (name, node, character, profile)`);
    if (!isId(n.node)) throw new PlanError(`${where}.node: "${String(n.node)}" is not an id ([a-z0-9-])`);
    if (n.character !== undefined && !isId(n.character)) throw new PlanError(`${where}.character: "${String(n.character)}" is not an id`);
    if (n.name !== undefined && !isId(n.name)) throw new PlanError(`${where}.name: "${String(n.name)}" is not a computer name ([a-z0-9-])`);
    if (typeof n.profile !== 'string') throw new PlanError(`${where}.profile: give the node's hardware profile file`);
    if (ids.has(n.node)) throw new PlanError(`${where}.node: "${n.node}" is planned twice`);
    if (n.name && names.has(n.name as string)) throw new PlanError(`${where}.name: "${String(n.name)}" is planned twice`);
    ids.add(n.node);
    if (n.name) names.add(n.name as string);
    const profileFile = resolve(dirname(file), n.profile);
    return { name: n.name as string | undefined, node: n.node, character: n.character as string | undefined, profileFile, profileText: readProfile(profileFile, where) };
  });
  return { show: d.show as string | undefined, broker: d.broker as string | undefined, nodes };
}

/** Reads and checks a profile before anything is sent to a node. */
export function readProfile(file: string, where: string): string {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new PlanError(`${where}.profile: cannot read ${file} (${(e as Error).message})`); }
  try { parseProfile(file, text); } catch (e) { throw new PlanError(`${where}.profile: ${(e as Error).message}`); }
  return text;
}
