/**
 * Finds the hardware profile of each node of a show, for `kuroko validate`: the cast entry's
 * `profile:` (relative to the show file), else DIR/{node}.yaml or a profile in DIR whose `node:` is
 * the node (--profiles DIR), else one profile for every node (--profile FILE, as the demo runs).
 */
import { readdirSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { loadProfile } from '../../firmware-config/profile.ts';
import type { ShowT } from './schema.ts';
import type { NodeProfile } from './hardware-check.ts';

export interface ProfileSources { profilesDir?: string; profile?: string }

/** Profiles by node id; problems as "[cast.N.profile] …" (placed at that line) or plain messages. */
export function resolveProfiles(show: ShowT, showFile: string, src: ProfileSources): { profiles: Map<string, NodeProfile>; problems: string[] } {
  const profiles = new Map<string, NodeProfile>();
  const problems: string[] = [];
  const cache = new Map<string, NodeProfile | Error>();
  const load = (file: string): NodeProfile | Error => {
    if (!cache.has(file)) {
      try {
        cache.set(file, { profile: loadProfile(file).profile, file });
      } catch (e) {
        cache.set(file, e as Error);
      }
    }
    return cache.get(file)!;
  };
  const inDir = new Map<string, string>();
  if (src.profilesDir) {
    let names: string[] = [];
    try {
      names = readdirSync(src.profilesDir).filter((n) => ['.yaml', '.yml'].includes(extname(n)));
    } catch (e) {
      problems.push(`--profiles ${src.profilesDir}: cannot read the folder (${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (e as Error).message})`);
    }
    for (const n of names) {
      const file = join(src.profilesDir, n);
      inDir.set(basename(n, extname(n)), file);
      const p = load(file);
      if (!(p instanceof Error) && p.profile.node) inDir.set(p.profile.node, file);
    }
  }
  show.cast.forEach((c, i) => {
    let file: string | undefined;
    let where: string | null = null;
    if (c.profile) { file = resolve(dirname(showFile), c.profile); where = `cast.${i}.profile`; }
    else file = inDir.get(c.node) ?? src.profile;
    if (!file) return;
    const p = load(file);
    if (p instanceof Error) {
      const why = p.message.split('\n').join('\n    ');
      problems.push(where ? `[${where}] the hardware profile of node "${c.node}" cannot be used: ${why}` : `the hardware profile ${file} of node "${c.node}" cannot be used: ${why}`);
      return;
    }
    if (p.profile.node && p.profile.node !== c.node) {
      problems.push(`${where ? `[${where}] ` : ''}${file} is the profile of node "${p.profile.node}", not of "${c.node}" (cast entry "${c.id}"): name the right profile`);
      return;
    }
    profiles.set(c.node, p);
  });
  return { profiles, problems };
}
