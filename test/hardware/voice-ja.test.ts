/**
 * Speakable Japanese: espeak-ng's ja voice reads kanji as the English words "Chinese letter"
 * (phonemes tS'aIni:z l'et@); a line spoken from its kana reading never does. Real espeak-ng,
 * real kuromoji (hub) and real MeCab + IPADIC (node); the jaw follows the real audio envelope.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { EspeakVoice } from '../../edge/voice/espeak.ts';
import { SimVoice } from '../../edge/voice/sim-voice.ts';
import { ipadicDir, mecabReading, speakableJapanese } from '../../edge/voice/reading.ts';
import { loadReadings, readingOf, withReading } from '../../hub/readings.ts';
import { speechDurationMs } from '../../protocol/speech-rate.ts';
import { ROOT } from '../helpers/stage.ts';

const CHINESE_LETTER = /tS'aIni:z/;
const phonemes = (text: string) => execFileSync('espeak-ng', ['-v', 'ja', '-x', '-q', '--stdin'], { input: text }).toString();

/** Every line the Japanese sample show can speak as written: scripted lines, must-say and beat lines. */
function tsukiyoLines(): string[] {
  const show = parse(readFileSync(`${ROOT}hub/shows/tsukiyo.yaml`, 'utf8')) as { scenes: { cues: { kind: string; text?: string; mustSay?: { text: string }[]; beats?: { line?: { text: string } }[] }[] }[] };
  return show.scenes.flatMap((s) => s.cues.flatMap((c) => [
    ...(c.kind === 'line' && c.text ? [c.text] : []), ...(c.mustSay ?? []).map((m) => m.text), ...(c.beats ?? []).flatMap((b) => (b.line ? [b.line.text] : [])),
  ]));
}

describe('speakable Japanese', () => {
  beforeAll(async () => { await loadReadings(); }, 120_000);

  it('the hub reads kanji into kana (kuromoji, IPADIC): names, particles, long vowels', () => {
    expect(readingOf('睦月、月が昇る前に渡し舟で行こう。')).toBe('ムツキ、ツキガノボルマエニワタシブネデイコウ。');
    expect(readingOf('大丈夫。夜はまだ長いよ。')).toBe('ダイジョーブ。ヨルワマダナガイヨ。');
    expect(readingOf('We go tonight.')).toBeNull();
    expect(withReading({ character: 'mutsuki', text: '夜は長い。' })).toMatchObject({ reading: 'ヨルワナガイ。' });
    expect(withReading({ character: 'kenzaki', text: 'We go.' })).not.toHaveProperty('reading');
  });

  it('no line of the Japanese sample show says "Chinese letter" once read (espeak-ng -x); raw kanji would', () => {
    const lines = tsukiyoLines();
    expect(lines.length).toBeGreaterThanOrEqual(13);
    // The trap is real: the raw text of a line with kanji is spoken as "Chinese letter".
    expect(phonemes(lines[0]!)).toMatch(CHINESE_LETTER);
    for (const line of lines) {
      const reading = readingOf(line)!;
      expect(reading, line).not.toMatch(/[\u3400-\u9fff]/);
      expect(phonemes(reading), `${line} → ${reading}`).not.toMatch(CHINESE_LETTER);
    }
  });

  it('a node without the hub\'s reading reads its own line with MeCab + IPADIC (or drops the kanji)', async () => {
    const line = '睦月、まだ夜は長いよ。';
    if (!ipadicDir()) {
      console.log('MeCab IPADIC not installed here (apt install mecab mecab-ipadic-utf8): checking the kanji-free fallback only');
      expect((await speakableJapanese(line)).say).toBe('、まだはいよ。');
      return;
    }
    expect(await mecabReading(line)).toBe('ムツキ、マダヨルワナガイヨ。');
    const r = await speakableJapanese(line);
    expect(r.via).toBe('mecab');
    expect(phonemes(r.say)).not.toMatch(CHINESE_LETTER);
    // A reading from the hub wins; kana needs nothing.
    expect(await speakableJapanese(line, 'ムツキ')).toEqual({ say: 'ムツキ', via: 'hub' });
    expect((await speakableJapanese('だいじょうぶ')).via).toBe('kana');
  });

  it('espeak-ng speaks the reading: a kanji line lasts as long as its kana, and the jaw follows the real envelope', async () => {
    const v = new EspeakVoice({ output: 'null' });
    const text = '大丈夫。夜はまだ長いよ。';
    const spoken = await v.textToSay({ text, language: 'ja', reading: readingOf(text)! });
    expect(spoken).toBe('ダイジョーブ。ヨルワマダナガイヨ。');
    const u = await v.speak({ text, language: 'ja', reading: readingOf(text)! }, new AbortController().signal);
    // "Chinese letter" ×3 took ~3.5 s for these four kanji; the kana reading takes about 2 s.
    expect(u.durationMs).toBeGreaterThan(1200);
    expect(u.durationMs).toBeLessThan(3500);
    const values = u.envelope!.values;
    expect(values.length).toBe(Math.ceil(u.durationMs / 20));
    expect(values.slice(5, -5).some((x) => x < 0.2)).toBe(true); // a pause at 。
    await u.done;
  }, 20_000);

  it('times lines by a rate per language (and per voice when configured)', () => {
    const ja = '川の水はもう膝まで来ている。急ごう。';
    const reading = readingOf(ja)!;
    // Japanese: kana of the reading × 136 ms; not 45 ms per character as before.
    expect(speechDurationMs(ja, { language: 'ja', reading })).toBe(Math.round([...reading].length * 136));
    expect(speechDurationMs(ja, { language: 'ja' })).toBe(Math.round([...ja].length * 163));
    expect(speechDurationMs('We leave at moonrise.', { language: 'en' })).toBe(21 * 69);
    expect(speechDurationMs('We leave.', { language: 'en', voice: 'en-gb', rates: { 'en-gb': 80, en: 60 } })).toBe(9 * 80);
    const sim = new SimVoice();
    expect(sim.durationOf(ja, { language: 'ja', reading })).toBeGreaterThan(2500);
    expect(new SimVoice({ rates: { ja: 100 } }).durationOf(ja, { language: 'ja', reading })).toBe([...reading].length * 100);
  });
});
