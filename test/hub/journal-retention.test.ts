import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Journal, readJournal } from '../../hub/journal.ts';
import { KUROKO } from '../helpers/stage.ts';

const DAY = 86_400_000;
const line = (character: string, text: string, at: number) => JSON.stringify({ at: new Date(at).toISOString(), type: 'line', line: { v: 1, node: character, character, text, scene: 's', cue: null, source: 'hub', startShowTime: 0, durationMs: 1, ts: at } });

function journalDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-retention-'));
  const now = Date.now();
  writeFileSync(join(dir, 'quick-old.jsonl'), [line('ann', 'Long ago.', now - 40 * DAY), line('ben', 'Also long ago.', now - 35 * DAY)].join('\n') + '\n');
  writeFileSync(join(dir, 'quick-old.srt'), 'stale subtitles\n');
  writeFileSync(join(dir, 'quick-mixed.jsonl'), [line('ann', 'Old line.', now - 31 * DAY), line('ann', 'My name is Jane Roe.', now - DAY), line('ben', 'Recent.', now - 1000)].join('\n') + '\n');
  writeFileSync(join(dir, 'quick-mixed.srt'), 'stale subtitles\n');
  return dir;
}

const run = (...args: string[]) => execFileSync(process.execPath, [KUROKO, 'journal', ...args], { encoding: 'utf8' });

describe('kuroko journal prune and erase', () => {
  it('prune --older-than 30d drops old records, deletes emptied journals, rewrites their subtitles', () => {
    const dir = journalDir();
    const out = run('prune', '--older-than', '30d', '--dir', dir);
    expect(out).toMatch(/3 record\(s\) removed from 2 of 2/);
    expect(existsSync(join(dir, 'quick-old.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 'quick-old.srt'))).toBe(false);
    expect(readJournal(join(dir, 'quick-mixed.jsonl')).map((r) => (r.type === 'line' ? r.line.text : ''))).toEqual(['My name is Jane Roe.', 'Recent.']);
    expect(readFileSync(join(dir, 'quick-mixed.srt'), 'utf8')).toContain('Jane Roe');
  });

  it('erase --character and --match remove a person from journals and subtitles', () => {
    const dir = journalDir();
    expect(run('erase', '--match', 'jane roe', '--dir', dir)).toMatch(/1 record\(s\) removed/);
    expect(readFileSync(join(dir, 'quick-mixed.jsonl'), 'utf8')).not.toMatch(/Jane/);
    expect(readFileSync(join(dir, 'quick-mixed.srt'), 'utf8')).not.toMatch(/Jane/);
    run('erase', '--character', 'ann', '--dir', dir);
    const all = readFileSync(join(dir, 'quick-mixed.jsonl'), 'utf8') + readFileSync(join(dir, 'quick-old.jsonl'), 'utf8');
    expect(all).not.toContain('"ann"');
    expect(all).toContain('Recent.');
  });

  it('refuses unclear requests with the fix', () => {
    const r = spawnSync(process.execPath, [KUROKO, 'journal', 'prune', '--older-than', 'thirty days', '--dir', journalDir()], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/e\.g\. 30d/);
    const e = spawnSync(process.execPath, [KUROKO, 'journal', 'erase', '--dir', journalDir()], { encoding: 'utf8' });
    expect(e.stderr).toMatch(/--character ID or --match TEXT/);
  });

  it('the journal redacts what operators type unless the show keeps it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-redact-'));
    const redacting = new Journal(join(dir, 'a.jsonl'));
    redacting.append({ type: 'audit', action: 'council/ask', by: 'operator', role: 'operator', ok: true, args: { question: 'Is Jane Roe in row 3?' } });
    expect(readFileSync(join(dir, 'a.jsonl'), 'utf8')).not.toContain('Jane');
    expect(readFileSync(join(dir, 'a.jsonl'), 'utf8')).toContain('"by":"operator"');
    const keeping = new Journal(join(dir, 'b.jsonl'), { keepOperatorText: true });
    keeping.append({ type: 'audit', action: 'council/ask', by: 'operator', role: 'operator', ok: true, args: { question: 'Is Jane Roe in row 3?' } });
    expect(readFileSync(join(dir, 'b.jsonl'), 'utf8')).toContain('Jane');
  });
});
