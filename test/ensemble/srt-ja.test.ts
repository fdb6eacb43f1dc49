/** SRT both ways for a Japanese scene: the lead-in is kept, lines take the time a voice needs, the export carries performed durations. */
import { describe, it, expect } from 'vitest';
import { parseSpeakerSrt, transcriptToSrt } from '../../hub/srt.ts';
import { srtToScene } from '../../hub/ensemble/replay.ts';
import { loadShow } from '../../hub/show/load.ts';
import { SimVoice } from '../../edge/voice/sim-voice.ts';
import type { TranscriptLineT } from '../../protocol/index.ts';
import { ROOT } from './helpers.ts';

const SRT = `1
00:00:01,000 --> 00:00:03,400
霜月: 四時間など何でもない。今夜出発だ。

2
00:00:03,800 --> 00:00:06,300
弥生: 今夜、暗闇の中、水浸しの道を行くの？

3
00:00:06,700 --> 00:00:08,900
葉月: 古い渡し舟がある。夜も動く。
`;

describe('SRT and Japanese timing', () => {
  const cast = loadShow(`${ROOT}hub/shows/tsukiyo.yaml`).cast;
  const lines = parseSpeakerSrt('ja.srt', SRT);

  it('import keeps the first subtitle\'s offset as a pre-wait', () => {
    const scene = srtToScene(lines, cast, { sceneId: 'ja' });
    expect(scene.cues[0]).toMatchObject({ character: 'shimotsuki', preWait: 1 });
    expect(srtToScene(lines, cast, { sceneId: 'ja', keepLeadIn: false }).cues[0]!.preWait).toBeUndefined();
  });

  it('a Japanese line takes about as long as the subtitle gave it (not 45 ms a character)', () => {
    const voice = new SimVoice();
    for (const l of lines) {
      const ms = voice.durationOf(l.text, { language: 'ja' });
      const sub = l.endMs - l.startMs;
      expect(ms / sub, `${l.text}: ${ms} ms against ${sub} ms`).toBeGreaterThan(0.6);
      expect(ms / sub).toBeLessThan(1.8);
      expect(ms).toBeGreaterThan([...l.text].length * 45 * 2); // the old timing was 2–3× too fast
    }
  });

  it('export: each subtitle lasts as long as its line was performed, counted from the scene\'s start', () => {
    const voice = new SimVoice();
    const sceneStart = 50_000;
    let t = sceneStart + 1000;
    const performed: TranscriptLineT[] = lines.map((l, i) => {
      const who = cast.find((c) => c.name === l.speaker)!;
      const durationMs = voice.durationOf(l.text, { language: 'ja' });
      const line = { v: 1 as const, node: who.node, character: who.id, text: l.text, scene: 'ja', cue: `s${i + 1}`, source: 'hub' as const, startShowTime: t, durationMs, ts: 0 };
      t += durationMs + 400;
      return line;
    });
    const out = parseSpeakerSrt('out.srt', transcriptToSrt(performed, Object.fromEntries(cast.map((c) => [c.id, c.name])), { origin: sceneStart }));
    expect(out[0]!.startMs).toBe(1000);
    out.forEach((o, i) => {
      expect(o.endMs - o.startMs).toBe(performed[i]!.durationMs);
      expect(o.speaker).toBe(lines[i]!.speaker);
      expect(o.text).toBe(lines[i]!.text);
    });
    // Without an origin, times count from the first line (as before).
    expect(parseSpeakerSrt('x.srt', transcriptToSrt(performed))[0]!.startMs).toBe(0);
  });
});
