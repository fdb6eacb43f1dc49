/**
 * The adoption plan (YAML): which computer becomes which node, playing which character, with
 * which hardware profile. Checked once, here, with file and field in every error.
 *
 *   show: blade
 *   broker: mqtt://hub.local:1883
 *   nodes:
 *     - { name: pi-kenzaki, node: kenzaki, character: kenzaki, profile: profiles/kenzaki.yaml, code: K7QM-4XPD }
 *     - { node: aikawa, character: aikawa, profile: profiles/aikawa.yaml, code: 9RHT-WC3E }   # no name: the next new computer seen
 *
 * `code` is the pairing code the computer's agent printed (edge/agent/pairing.ts); `codeFile` reads
 * it from a file when the adoption starts (an agent on this machine: a demo or a test bench).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { isId } from '../../protocol/ids.ts';
import { parseProfile } from '../../firmware-config/profile.ts';

export interface PlannedNode {
  name?: string; node: string; character?: string; profileFile: string; profileText: string;
  /** The computer's pairing code, or a file holding it (read at adoption time). */
  code?: string; codeFile?: string;
}

const CODE = /^[A-Za-z0-9][A-Za-z0-9 -]{0,31}$/;

/** The code to send for a planned node, read now from its file when it has one. */
export function planCode(p: PlannedNode): string | undefined {
  if (p.code !== undefined) return p.code;
  if (p.codeFile === undefined) return undefined;
  let text: string;
  try { text = readFileSync(p.codeFile, 'utf8').trim(); } catch (e) { throw new PlanError(`${p.node}: cannot read the pairing code from ${p.codeFile} (${(e as Error).message}); is the agent started, and may you read its folder?`); }
  if (!CODE.test(text)) throw new PlanError(`${p.node}: ${p.codeFile} does not hold a pairing code`);
  return text;
}

/** Checks a code given on the command line or in a plan (the agent decides whether it is right). */
export function checkCode(where: string, code: unknown): string {
  if (typeof code !== 'string' || !CODE.test(code)) throw new PlanError(`${where}: "${String(code).slice(0, 40)}" is not a pairing code (letters and digits, as the agent printed it, e.g. K7QM-4XPD)`);
  return code;
}
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
    for (const k of Object.keys(n ?? {})) if (!['name', 'node', 'character', 'profile', 'code', 'codeFile'].includes(k)) throw new PlanError(`${where}: unknown field "${k}" (name, node, character, profile, code, codeFile)`);
    if (!isId(n.node)) throw new PlanError(`${where}.node: "${String(n.node)}" is not an id ([a-z0-9-])`);
    if (n.character !== undefined && !isId(n.character)) throw new PlanError(`${where}.character: "${String(n.character)}" is not an id`);
    if (n.name !== undefined && !isId(n.name)) throw new PlanError(`${where}.name: "${String(n.name)}" is not a computer name ([a-z0-9-])`);
    if (typeof n.profile !== 'string') throw new PlanError(`${where}.profile: give the node's hardware profile file`);
    if (ids.has(n.node)) throw new PlanError(`${where}.node: "${n.node}" is planned twice`);
    if (n.name && names.has(n.name as string)) throw new PlanError(`${where}.name: "${String(n.name)}" is planned twice`);
    ids.add(n.node);
    if (n.name) names.add(n.name as string);
    const profileFile = resolve(dirname(file), n.profile);
    if (n.code !== undefined && n.codeFile !== undefined) throw new PlanError(`${where}: give code or codeFile, not both`);
    if (n.codeFile !== undefined && typeof n.codeFile !== 'string') throw new PlanError(`${where}.codeFile: give the path of a file holding the pairing code`);
    return {
      name: n.name as string | undefined, node: n.node, character: n.character as string | undefined, profileFile, profileText: readProfile(profileFile, where),
      ...(n.code !== undefined ? { code: checkCode(`${where}.code`, String(n.code)) } : {}),
      ...(typeof n.codeFile === 'string' ? { codeFile: resolve(dirname(file), n.codeFile) } : {}),
    };
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
