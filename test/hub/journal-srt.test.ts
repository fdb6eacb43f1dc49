import { describe, it, expect } from 'vitest';
import { mkdtempSync, appendFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, readJournal, transcriptOf } from '../../hub/journal.ts';
import { transcriptToSrt, parseSpeakerSrt } from '../../hub/srt.ts';
import { Show } from '../../hub/show/schema.ts';
import { Profile } from '../../firmware-config/profile-schema.ts';
import type { TranscriptLineT } from '../../protocol/index.ts';
import { ROOT } from '../helpers/stage.ts';

const line = (character: string, text: string, startShowTime: number, durationMs: number): TranscriptLineT =>
  ({ v: 1, node: character, character, text, scene: 's', cue: null, source: 'hub', startShowTime, durationMs, ts: 0 });

describe('journal', () => {
  it('appends records that survive a torn last line (a crash mid-write)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kuroko-')), 'j.jsonl');
    const j = new Journal(file);
    j.append({ type: 'line', line: line('kenzaki', 'We go tonight.', 5000, 1500) });
    j.append({ type: 'event', source: 'node/kenzaki', kind: 'watchdog', data: {} });
    appendFileSync(file, '{"type":"line","li'); // torn
    const records = readJournal(file);
    expect(records.map((r) => r.type)).toEqual(['line', 'event']);
    expect(transcriptOf(records)[0]!.text).toBe('We go tonight.');
  });
});

describe('SRT', () => {
  it('exports lines timed from the performance, and reads them back', () => {
    const srt = transcriptToSrt([line('tachibana', 'No.', 12500, 800), line('kenzaki', 'We go tonight.', 10000, 1500)], { kenzaki: 'Kenzaki', tachibana: 'Tachibana' });
    expect(srt).toContain('00:00:00,000 --> 00:00:01,500\nKenzaki: We go tonight.');
    expect(srt).toContain('00:00:02,500 --> 00:00:03,300\nTachibana: No.');
    expect(parseSpeakerSrt('x.srt', srt)).toEqual([
      { speaker: 'Kenzaki', text: 'We go tonight.', startMs: 0, endMs: 1500 },
      { speaker: 'Tachibana', text: 'No.', startMs: 2500, endMs: 3300 },
    ]);
  });

  it('names the subtitle that has no speaker', () => {
    expect(() => parseSpeakerSrt('x.srt', '1\n00:00:00,000 --> 00:00:01,000\njust words\n')).toThrow(/x\.srt: subtitle 1 .*"Speaker: text"/);
  });
});

describe('schema files for editors', () => {
  it('are what the code generates (run `npm run schemas` after changing a schema)', () => {
    const show = JSON.parse(readFileSync(join(ROOT, 'hub/show.schema.json'), 'utf8'));
    const profile = JSON.parse(readFileSync(join(ROOT, 'firmware-config/profile.schema.json'), 'utf8'));
    const strip = ({ $schema: _a, $id: _b, ...rest }: Record<string, unknown>) => rest;
    expect(strip(show)).toEqual(JSON.parse(JSON.stringify(Show)));
    expect(strip(profile)).toEqual(JSON.parse(JSON.stringify(Profile)));
  });
});
