/** espeak-ng voice: real synthesis (English and Japanese), envelope, null sink timing, jaw frames. */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EspeakVoice } from '../../edge/voice/espeak.ts';
import { jawFrames } from '../../edge/voice/jaw.ts';

describe('espeak-ng voice', () => {
  it('speaks English with a duration and a syllable envelope, timed on a null sink', async () => {
    const v = new EspeakVoice({ output: 'null' });
    const t0 = Date.now();
    const u = await v.speak({ text: 'To be, or not to be.', language: 'en-us' }, new AbortController().signal);
    expect(u.durationMs).toBeGreaterThan(800);
    expect(u.durationMs).toBeLessThan(4000);
    const values = u.envelope!.values;
    expect(values.length).toBe(Math.ceil(u.durationMs / 20));
    expect(Math.max(...values)).toBe(1);
    // speech has pauses: the mouth closes somewhere inside the line
    expect(values.slice(5, -5).some((x) => x < 0.2)).toBe(true);
    await u.done;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(u.durationMs - 50);
  }, 15_000);

  it('speaks Japanese, writes a WAV file where asked, and can be cut short', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kvoice-')), 'line.wav');
    const v = new EspeakVoice({ output: { file } });
    const ac = new AbortController();
    const u = await v.speak({ text: 'こんにちは、せかい', language: 'ja' }, ac.signal);
    expect(u.durationMs).toBeGreaterThan(500);
    setTimeout(() => ac.abort(), 50);
    await expect(u.done).rejects.toThrow(/cut short/);
    expect(existsSync(file) && statSync(file).size).toBeGreaterThan(1000);
  }, 15_000);

  it('refuses an unknown voice clearly', async () => {
    await expect(new EspeakVoice({ output: 'null' }).speak({ text: 'hi', voice: 'no-such-voice' }, new AbortController().signal)).rejects.toThrow(/espeak-ng has no voice or language "no-such-voice"/);
  });
});

describe('jaw', () => {
  it('maps the envelope onto the jaw range and closes at the end', () => {
    const frames = jawFrames({ frameMs: 20, values: [0, 0.5, 1, 1, 0.2, 0] }, { min: 0, max: 30, rest: 0 });
    expect(frames[0]).toEqual({ t: 0, angle: 0 });
    expect(frames.find((f) => f.t === 40)?.angle).toBe(30);
    expect(Math.max(...frames.map((f) => f.angle))).toBe(30);
    expect(frames.at(-1)!.angle).toBe(0);
  });
  it('opens away from rest for a jaw that rests at the top of its range', () => {
    const frames = jawFrames({ frameMs: 20, values: [1, 1] }, { min: 60, max: 90, rest: 90 }, { gain: 0.5 });
    expect(frames[0]!.angle).toBe(75);
  });
});
