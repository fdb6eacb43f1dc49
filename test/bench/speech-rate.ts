/**
 * `npm run measure:speech-rate`: how long espeak-ng takes to say a character, per language, on
 * this machine — the defaults in protocol/speech-rate.ts come from here. Every line of the sample
 * shows and the emotion evaluation sets is rendered with `espeak-ng -v <voice> -w` (WAV to a
 * file; the duration is the WAV's sample count over its rate); Japanese lines are rendered from
 * their kana reading (hub/readings.ts), as a node speaks them.
 *
 *   npm run measure:speech-rate [-- --json FILE]
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { parseWav } from '../../edge/voice/espeak-wav.ts';
import { loadReadings, readingOf } from '../../hub/readings.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({ options: { json: { type: 'string' } } });

function showLines(file: string): string[] {
  const show = parse(readFileSync(join(ROOT, file), 'utf8')) as { scenes: { cues: { kind: string; text?: string; mustSay?: { text: string }[] }[] }[] };
  return show.scenes.flatMap((s) => s.cues.flatMap((c) => [...(c.kind === 'line' && c.text ? [c.text] : []), ...(c.mustSay ?? []).map((m) => m.text)]));
}
const labelled = (file: string) => readFileSync(join(ROOT, file), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text);

const dir = mkdtempSync(join(tmpdir(), 'kuroko-rate-'));
function durationMs(voice: string, text: string): number {
  const wav = join(dir, 'line.wav');
  execFileSync('espeak-ng', ['-v', voice, '-w', wav, '--stdin'], { input: text });
  const pcm = parseWav(readFileSync(wav));
  return (pcm.samples.length / pcm.sampleRate) * 1000;
}
const chars = (s: string) => [...s].length;

await loadReadings();
const corpora = [
  { language: 'en', voice: 'en-us', lines: [...showLines('hub/shows/blade.yaml'), ...labelled('test/eval/emotion-labels.jsonl')] },
  { language: 'ja', voice: 'ja', lines: [...showLines('hub/shows/tsukiyo.yaml'), ...labelled('test/eval/emotion-labels.ja.jsonl')] },
];
const out: Record<string, unknown> = {};
console.log(`espeak-ng ${execFileSync('espeak-ng', ['--version']).toString().trim()}`);
for (const c of corpora) {
  let ms = 0; let spoken = 0; let written = 0;
  const per: number[] = [];
  for (const line of c.lines) {
    const say = c.language === 'ja' ? readingOf(line) ?? line : line;
    const d = durationMs(c.voice, say);
    ms += d; spoken += chars(say); written += chars(line);
    per.push(d / chars(say));
  }
  per.sort((a, b) => a - b);
  const r = { lines: c.lines.length, seconds: +(ms / 1000).toFixed(1), msPerSpokenChar: +(ms / spoken).toFixed(1), msPerWrittenChar: +(ms / written).toFixed(1), p10: +per[Math.floor(per.length * 0.1)]!.toFixed(1), p90: +per[Math.floor(per.length * 0.9)]!.toFixed(1) };
  out[c.language] = r;
  console.log(`${c.language} (voice ${c.voice}${c.language === 'ja' ? ', kana readings' : ''}): ${r.lines} lines, ${r.seconds} s; ${r.msPerSpokenChar} ms per spoken character (p10 ${r.p10}, p90 ${r.p90}); ${r.msPerWrittenChar} ms per written character`);
}
rmSync(dir, { recursive: true, force: true });
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 2));
