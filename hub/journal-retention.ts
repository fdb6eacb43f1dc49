/**
 * Retention and erasure of show journals (GDPR): `kuroko journal prune` drops records older than
 * the retention period; `kuroko journal erase` removes every record about a character or matching
 * a text (a data-subject request). Files are rewritten atomically (temporary file + fsync +
 * rename); a file left empty is deleted, and a subtitle file beside it is rewritten from what is left.
 */
import { readdirSync, readFileSync, writeFileSync, renameSync, rmSync, existsSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { JournalRecord } from './journal.ts';
import { transcriptToSrt } from './srt.ts';

export interface RetentionResult {
  files: number;
  removedRecords: number;
  deletedFiles: string[];
  rewrittenFiles: string[];
}

/** "30d", "12h", "90m" → milliseconds; a clear refusal otherwise. */
export function parseAge(s: string): number {
  const m = /^(\d+)\s*(d|h|m)$/.exec(s.trim());
  if (!m) throw new Error(`"${s}" is not an age: use a number and d (days), h (hours) or m (minutes), e.g. 30d`);
  return Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as 'd' | 'h' | 'm'];
}

function journalFiles(dir: string): string[] {
  if (!existsSync(dir)) throw new Error(`${dir}: no such journal folder (the hub writes to var/journal unless --journal-dir)`);
  return readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort().map((n) => join(dir, n));
}

function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  const fd = openSync(tmp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(tmp, file);
}

/** Keeps the records `keep` says yes to, in every journal of `dir`. */
function filterJournals(dir: string, keep: (r: JournalRecord, raw: string) => boolean): RetentionResult {
  const res: RetentionResult = { files: 0, removedRecords: 0, deletedFiles: [], rewrittenFiles: [] };
  for (const file of journalFiles(dir)) {
    res.files++;
    const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
    const kept: string[] = [];
    const records: JournalRecord[] = [];
    for (const l of lines) {
      let r: JournalRecord;
      try { r = JSON.parse(l) as JournalRecord; } catch { continue; /* a torn line: dropped with the rest */ }
      if (keep(r, l)) { kept.push(l); records.push(r); }
    }
    const removed = lines.length - kept.length;
    if (!removed) continue;
    res.removedRecords += removed;
    const srt = file.replace(/\.jsonl$/, '.srt');
    if (!kept.length) {
      rmSync(file);
      rmSync(srt, { force: true });
      res.deletedFiles.push(file);
      continue;
    }
    writeAtomic(file, kept.join('\n') + '\n');
    if (existsSync(srt)) writeAtomic(srt, transcriptToSrt(records.flatMap((r) => (r.type === 'line' ? [r.line] : []))));
    res.rewrittenFiles.push(file);
  }
  return res;
}

export function pruneJournals(dir: string, olderThanMs: number, now = Date.now()): RetentionResult {
  const cutoff = now - olderThanMs;
  return filterJournals(dir, (r) => {
    const t = Date.parse(r.at);
    return Number.isNaN(t) || t >= cutoff;
  });
}

export function eraseFromJournals(dir: string, o: { character?: string; match?: string }): RetentionResult {
  if (!o.character && !o.match) throw new Error('say what to erase: --character ID or --match TEXT');
  const needle = o.match?.toLowerCase();
  return filterJournals(dir, (r, raw) => {
    if (o.character) {
      if (r.type === 'line' && (r.line.character === o.character || r.line.node === o.character)) return false;
      if (raw.includes(`"${o.character}"`)) return false;
    }
    if (needle && raw.toLowerCase().includes(needle)) return false;
    return true;
  });
}
