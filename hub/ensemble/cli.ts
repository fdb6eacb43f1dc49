/**
 * `kuroko ensemble`: scripted scenes from performances and subtitles.
 *   kuroko ensemble replay JOURNAL --scene ID [--as NEW-ID] [-o FILE.yaml]
 *   kuroko ensemble srt-import FILE.srt --show SHOW.yaml --scene NEW-ID [--timing exact|follow] [-o FILE.yaml]
 * Both write a scene in YAML, to paste under `scenes:` of a show file.
 */
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../../bin/errors.ts';
import { readJournal } from '../journal.ts';
import { parseSpeakerSrt } from '../srt.ts';
import { loadShow } from '../show/load.ts';
import { journalToScene, srtToScene, sceneYaml } from './replay.ts';
import { checkId } from '../../protocol/ids.ts';

export const ENSEMBLE_HELP = `kuroko ensemble — scripted scenes from performances and subtitles

Usage:
  kuroko ensemble replay JOURNAL --scene ID [--as NEW-ID] [-o FILE.yaml]
      an improvised (or any) scene of a show journal as a fixed cue list that replays it
  kuroko ensemble srt-import FILE.srt --show SHOW.yaml --scene NEW-ID [--timing exact|follow] [-o FILE.yaml]
      subtitles whose lines read "Speaker: text" as a scene of line cues (speakers matched to the cast)

Without -o the scene goes to standard output, as YAML to paste under "scenes:".`;

export async function runEnsembleCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { scene: { type: 'string' }, as: { type: 'string' }, show: { type: 'string' }, timing: { type: 'string' }, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
  });
  const [sub, file] = positionals;
  if (values.help || !sub) { console.log(ENSEMBLE_HELP); return sub || values.help ? 0 : 2; }
  if (!file) throw new UsageError(`kuroko ensemble ${sub}: name the input file (see kuroko ensemble --help)`);
  if (!values.scene) throw new UsageError(`kuroko ensemble ${sub}: --scene is required`);
  let yaml: string;
  if (sub === 'replay') {
    const sceneId = checkId('scene id', values.as ?? `${values.scene}-replay`);
    yaml = sceneYaml(journalToScene(readJournal(file), { fromScene: values.scene, sceneId, title: `Replay of ${values.scene}` }));
  } else if (sub === 'srt-import') {
    if (!values.show) throw new UsageError('kuroko ensemble srt-import: --show SHOW.yaml is required (for the cast)');
    const timing = values.timing ?? 'exact';
    if (timing !== 'exact' && timing !== 'follow') throw new UsageError('--timing is exact or follow');
    const show = loadShow(values.show);
    yaml = sceneYaml(srtToScene(parseSpeakerSrt(file, readFileSync(file, 'utf8')), show.cast, { sceneId: checkId('scene id', values.scene), timing }));
  } else throw new UsageError(`kuroko ensemble: unknown subcommand "${sub}" (replay, srt-import)`);
  if (values.out) writeFileSync(values.out, yaml);
  else process.stdout.write(yaml);
  return 0;
}
