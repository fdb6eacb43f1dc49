/**
 * `kuroko journal prune | erase`: retention and data-subject requests on the show journals.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { UsageError } from '../bin/errors.ts';
import { loadShow } from './show/load.ts';
import { pruneJournals, eraseFromJournals, parseAge, type RetentionResult } from './journal-retention.ts';

export const JOURNAL_HELP = `kuroko journal — retention and erasure of show journals (see PRIVACY.md)

Usage:
  kuroko journal prune --older-than AGE [--dir DIR]      e.g. --older-than 30d (d, h or m)
  kuroko journal prune --show FILE [--dir DIR]           the show's privacy.retentionDays (default 30)
  kuroko journal erase --character ID [--dir DIR]        every line and record of a character
  kuroko journal erase --match TEXT [--dir DIR]          every record containing TEXT (any case)

DIR is the journal folder (default var/journal). Records are removed in place; a journal left empty
is deleted, and its .srt subtitles are rewritten from what remains. Run it while the hub is stopped.`;

function report(verb: string, r: RetentionResult): void {
  console.log(`${verb}: ${r.removedRecords} record(s) removed from ${r.rewrittenFiles.length + r.deletedFiles.length} of ${r.files} journal(s)`);
  for (const f of r.rewrittenFiles) console.log(`  rewritten ${f}`);
  for (const f of r.deletedFiles) console.log(`  deleted   ${f}`);
}

export async function runJournalCli(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '-h' || verb === '--help') { console.log(JOURNAL_HELP); return verb ? 0 : 2; }
  const { values } = parseArgs({
    args: rest,
    options: { dir: { type: 'string' }, 'older-than': { type: 'string' }, show: { type: 'string' }, character: { type: 'string' }, match: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) { console.log(JOURNAL_HELP); return 0; }
  const dir = values.dir ?? join(process.cwd(), 'var', 'journal');
  switch (verb) {
    case 'prune': {
      let ms: number;
      if (values['older-than']) {
        try { ms = parseAge(values['older-than']); } catch (e) { throw new UsageError(`--older-than: ${(e as Error).message}`); }
      } else if (values.show) {
        ms = (loadShow(values.show).privacy?.retentionDays ?? 30) * 86_400_000;
      } else {
        throw new UsageError('kuroko journal prune: give --older-than AGE (e.g. 30d) or --show FILE (its privacy.retentionDays)');
      }
      report('prune', pruneJournals(dir, ms));
      return 0;
    }
    case 'erase': {
      if (!values.character && !values.match) throw new UsageError('kuroko journal erase: give --character ID or --match TEXT');
      if (values.match !== undefined && values.match.trim().length < 3) throw new UsageError('kuroko journal erase: --match needs at least 3 characters (it removes every record containing it)');
      report('erase', eraseFromJournals(dir, { character: values.character, match: values.match }));
      return 0;
    }
    default:
      throw new UsageError(`kuroko journal: unknown verb "${verb}" (prune, erase)`);
  }
}
