/**
 * A voice that "speaks" silently for a time that follows the line's length, with a made-up
 * syllable envelope for the jaw. It stands in for a speaker where there is none (demo, CI).
 */
import type { SpeakRequest, SpeechEngine, Utterance } from './types.ts';

export class SimVoice implements SpeechEngine {
  readonly name = 'sim';
  constructor(private readonly msPerChar = 45, private readonly minMs = 400) {}

  durationOf(text: string): number {
    // Count characters, not UTF-16 units, so Japanese lines get their fair length.
    return Math.max(this.minMs, Math.round([...text].length * this.msPerChar));
  }

  async speak(req: SpeakRequest, signal: AbortSignal): Promise<Utterance> {
    const durationMs = this.durationOf(req.text);
    const frameMs = 20;
    const values = Array.from({ length: Math.ceil(durationMs / frameMs) }, (_, i) => Math.abs(Math.sin((i * frameMs) / 1000 * Math.PI * 4)));
    const done = new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(new Error('line cut short'));
      const t = setTimeout(resolve, durationMs);
      signal.addEventListener('abort', () => { clearTimeout(t); reject(new Error('line cut short')); }, { once: true });
    });
    done.catch(() => undefined);
    return { durationMs, envelope: { frameMs, values }, done };
  }
}
