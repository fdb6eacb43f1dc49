/**
 * `kuroko srt JOURNAL [-o FILE]`: the lines of a performance as .srt subtitles, timed from the
 * performance itself.
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import { UsageError } from '../bin/errors.ts';
import { readJournal, transcriptOf } from './journal.ts';
import { transcriptToSrt } from './srt.ts';

export async function runSrtCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log('kuroko srt — export a performance journal as .srt\n\nUsage:\n  kuroko srt var/journal/SHOW-TIME.jsonl [-o FILE.srt]\n\nWithout -o the subtitles go to standard output.');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('kuroko srt: name one journal file (see kuroko srt --help)');
  const srt = transcriptToSrt(transcriptOf(readJournal(positionals[0]!)));
  if (values.out) writeFileSync(values.out, srt);
  else process.stdout.write(srt);
  return 0;
}
