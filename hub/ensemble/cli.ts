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
import { basename, extname } from 'node:path';
import { loadShow, parseShow } from '../show/load.ts';
import { showFromSrt, showYaml, parseIdMap } from './srt-show.ts';
import { isId } from '../../protocol/ids.ts';
import { journalToScene, srtToScene, sceneYaml } from './replay.ts';
import { checkId } from '../../protocol/ids.ts';

export const ENSEMBLE_HELP = `kuroko ensemble — scripted scenes from performances and subtitles

Usage:
  kuroko ensemble replay JOURNAL --scene ID [--as NEW-ID] [-o FILE.yaml]
      an improvised (or any) scene of a show journal as a fixed cue list that replays it
  kuroko ensemble srt-import FILE.srt --show SHOW.yaml --scene NEW-ID [--timing exact|follow] [-o FILE.yaml]
      subtitles whose lines read "Speaker: text" as a scene of line cues (speakers matched to the cast)
  kuroko ensemble srt-import FILE.srt --cast-from-speakers --scene NEW-ID [--ids "Speaker=id,…"]
                             [--show-id ID] [--title T] [--timing exact|follow] [-o SHOW.yaml]
      a whole show: one character (and node) per speaker, ids made from the names (or --ids);
      fewer than 4 speakers get silent extras, as a show has 4 to 12 characters

Without -o the scene (or show) goes to standard output, as YAML; a scene is pasted under "scenes:".

Examples:
  kuroko ensemble srt-import play.srt --cast-from-speakers --scene act-one -o play.yaml
  kuroko demo --show play.yaml --once
  kuroko ensemble srt-import scene.srt --show hub/shows/blade.yaml --scene from-srt -o scene.yaml`;

/** An id from a flag, or a refusal that shows the bad value and the rule. */
function usageId(flag: string, v: string | undefined): string {
  if (!isId(v)) throw new UsageError(`${flag} ${JSON.stringify(v)} is not a valid id: use 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit`);
  return v;
}

export async function runEnsembleCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      scene: { type: 'string' }, as: { type: 'string' }, show: { type: 'string' }, timing: { type: 'string' }, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' },
      'cast-from-speakers': { type: 'boolean', default: false }, ids: { type: 'string' }, 'show-id': { type: 'string' }, title: { type: 'string' },
    },
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
    const fromSpeakers = values['cast-from-speakers'];
    if (fromSpeakers && values.show) throw new UsageError('kuroko ensemble srt-import: give --show SHOW.yaml (match the speakers to its cast) or --cast-from-speakers (make the cast), not both');
    if (!fromSpeakers && !values.show) throw new UsageError('kuroko ensemble srt-import: --show SHOW.yaml is required (for the cast), or --cast-from-speakers to make the cast from the speakers');
    if (!fromSpeakers && (values.ids || values['show-id'] || values.title)) throw new UsageError('kuroko ensemble srt-import: --ids, --show-id and --title go with --cast-from-speakers');
    const timing = values.timing ?? 'exact';
    if (timing !== 'exact' && timing !== 'follow') throw new UsageError('--timing is exact or follow');
    const lines = parseSpeakerSrt(file, readFileSync(file, 'utf8'));
    const sceneId = usageId('--scene', values.scene);
    if (fromSpeakers) {
      let ids: Map<string, string> | undefined;
      try { ids = values.ids ? parseIdMap(values.ids) : undefined; } catch (e) { throw new UsageError((e as Error).message); }
      const base = basename(file, extname(file));
      const showId = usageId('--show-id', values['show-id'] ?? (base.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63) || 'srt-show'));
      const { show, extras } = showFromSrt(lines, { sceneId, timing, showId, showTitle: values.title ?? base, ...(ids ? { ids } : {}) });
      yaml = showYaml(show, basename(file));
      // The result must load as a show, exactly as `kuroko demo --show` will load it.
      parseShow(values.out ?? `${showId}.yaml`, yaml);
      console.error(`show "${showId}": ${show.cast.length} characters (${show.cast.map((c) => `${c.name} → ${c.id}`).join(', ')})${extras ? `; ${extras} silent extra${extras === 1 ? '' : 's'} added (a show has at least 4 characters)` : ''}, ${show.scenes[0]!.cues.length} lines`);
    } else {
      const show = loadShow(values.show!);
      yaml = sceneYaml(srtToScene(lines, show.cast, { sceneId, timing }));
    }
  } else throw new UsageError(`kuroko ensemble: unknown subcommand "${sub}" (replay, srt-import)`);
  if (values.out) writeFileSync(values.out, yaml);
  else process.stdout.write(yaml);
  return 0;
}
