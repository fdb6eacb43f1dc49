/**
 * `kuroko validate FILE...`: checks show files and hardware profiles (told apart by their
 * top-level keys) and exits non-zero with every error, naming file, line and field. A show is also
 * checked across files: every character card its cast names, and every cue against the hardware
 * profile of the node that performs it.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UsageError } from './errors.ts';
import { loadShow } from '../hub/show/load.ts';
import { locateProblems } from '../protocol/yaml-document.ts';
import { cardProblems } from '../hub/ensemble/card-files.ts';
import { hardwareProblems } from '../hub/show/hardware-check.ts';
import { resolveProfiles } from '../hub/show/profiles.ts';
import { loadProfile } from '../firmware-config/profile.ts';

export const VALIDATE_HELP = `kuroko validate — check show files and hardware profiles

Usage:
  kuroko validate FILE [FILE...] [--profiles DIR] [--profile FILE]

A file with a top-level "platform" key is checked as a hardware profile; any other as a show.
A show is checked across files too: every character card its cast names (cast[].card), and every
cue against the hardware profile of the node that performs it — servo and motor names, angles,
duties and speeds within the profile's limits, LEDs and gestures present.

Options:
  --profiles DIR   find each node's profile here: DIR/NODE.yaml, or a profile whose "node:" is NODE
  --profile FILE   the profile of every node that has no other (as kuroko demo --profile)
  -h, --help       this help

A cast entry may name its node's profile itself: { id: kenzaki, …, profile: ../robots/kenzaki.yaml }.

Examples:
  kuroko validate hub/shows/blade.yaml --profile firmware-config/profiles/sim-robot.yaml
  kuroko validate show.yaml --profiles robots/
  kuroko validate firmware-config/profiles/sample-robot.yaml

Exits 0 when every file is valid, 1 otherwise, printing each error with file:line:column, the field
and the fix.`;

function looksLikeProfile(file: string): boolean {
  try {
    const v = parse(readFileSync(file, 'utf8')) as unknown;
    return !!v && typeof v === 'object' && 'platform' in v;
  } catch {
    return false;
  }
}

export async function runValidateCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { profiles: { type: 'string' }, profile: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { console.log(VALIDATE_HELP); return 0; }
  if (positionals.length === 0) throw new UsageError('kuroko validate: name at least one file (see kuroko validate --help)');
  let bad = 0;
  for (const file of positionals) {
    try {
      if (looksLikeProfile(file)) {
        const p = loadProfile(file);
        console.log(`ok   ${file}: hardware profile, platform ${p.profile.platform}, ${(p.profile.servos ?? []).length} servos, ${(p.profile.motors ?? []).length} motors, ${(p.profile.sensors ?? []).length} sensors`);
        continue;
      }
      const s = loadShow(file);
      // Across files: the cards the cast names, the profiles of its nodes, and each cue against them.
      const { profiles, problems: profileProblems } = resolveProfiles(s, file, { profilesDir: values.profiles, profile: values.profile });
      const hw = hardwareProblems(s, profiles);
      const across = [...cardProblems(s, file), ...profileProblems, ...hw.problems];
      if (across.length) {
        bad++;
        console.error(`FAIL ${file} is invalid:\n  ${locateProblems(file, readFileSync(file, 'utf8'), across).join('\n  ')}`);
        continue;
      }
      const cues = s.scenes.reduce((a, sc) => a + sc.cues.length, 0);
      const checked = s.cast.length - hw.unchecked.length;
      console.log(`ok   ${file}: show ${s.show}, ${s.cast.length} characters, ${s.scenes.length} scenes, ${cues} cues; ${checked} of ${s.cast.length} nodes checked against their hardware profiles`);
      if (hw.unchecked.length) {
        console.log(`     not checked against hardware (no profile): ${hw.unchecked.join(', ')} — add "profile:" to their cast entries, or pass --profiles DIR or --profile FILE`);
      }
    } catch (e) {
      bad++;
      console.error(`FAIL ${(e as Error).message}`);
    }
  }
  return bad ? 1 : 0;
}
