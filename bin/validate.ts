/**
 * `kuroko validate FILE...`: checks show files and hardware profiles (told apart by their
 * top-level keys) and exits non-zero with every error, naming file, line and field.
 */
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UsageError } from './errors.ts';
import { loadShow } from '../hub/show/load.ts';
import { locateProblems } from '../protocol/yaml-document.ts';
import { cardProblems } from '../hub/ensemble/card-files.ts';
import { loadProfile } from '../firmware-config/profile.ts';

export const VALIDATE_HELP = `kuroko validate — check show files and hardware profiles

Usage:
  kuroko validate FILE [FILE...]

A file with a top-level "platform" key is checked as a hardware profile; any other as a show.
Exits 0 when every file is valid, 1 otherwise, printing each error with file:line:column and field.`;

function looksLikeProfile(file: string): boolean {
  try {
    const v = parse(readFileSync(file, 'utf8')) as unknown;
    return !!v && typeof v === 'object' && 'platform' in v;
  } catch {
    return false;
  }
}

export async function runValidateCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  if (values.help) { console.log(VALIDATE_HELP); return 0; }
  if (positionals.length === 0) throw new UsageError('kuroko validate: name at least one file (see kuroko validate --help)');
  let bad = 0;
  for (const file of positionals) {
    try {
      if (looksLikeProfile(file)) {
        const p = loadProfile(file);
        console.log(`ok   ${file}: hardware profile, platform ${p.profile.platform}, ${(p.profile.servos ?? []).length} servos, ${(p.profile.motors ?? []).length} motors, ${(p.profile.sensors ?? []).length} sensors`);
      } else {
        const s = loadShow(file);
        // Across files: every card the cast names.
        const across = cardProblems(s, file);
        if (across.length) {
          bad++;
          console.error(`FAIL ${file} is invalid:\n  ${locateProblems(file, readFileSync(file, 'utf8'), across).join('\n  ')}`);
          continue;
        }
        const cues = s.scenes.reduce((a, sc) => a + sc.cues.length, 0);
        console.log(`ok   ${file}: show ${s.show}, ${s.cast.length} characters, ${s.scenes.length} scenes, ${cues} cues`);
      }
    } catch (e) {
      bad++;
      console.error(`FAIL ${(e as Error).message}`);
    }
  }
  return bad ? 1 : 0;
}
