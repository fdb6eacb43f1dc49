/**
 * A voice that "speaks" silently for as long as a real voice would take (protocol/speech-rate.ts:
 * a rate per language, measured from espeak-ng; a Japanese line on its kana reading), with a
 * made-up syllable envelope for the jaw. It stands in for a speaker where there is none (demo, CI).
 */
import { speechDurationMs } from '../../protocol/speech-rate.ts';
import type { SpeakRequest, SpeechEngine, Utterance } from './types.ts';

export interface SimVoiceOptions {
  /** ms per character by language code or voice name (default: the measured rates). */
  rates?: Readonly<Record<string, number>>;
  /** One rate for every language (older profiles; fast tests). */
  msPerChar?: number;
  minMs?: number;
}

export class SimVoice implements SpeechEngine {
  readonly name = 'sim';
  private readonly o: SimVoiceOptions;
  /** `new SimVoice(5, 50)` (one rate, min ms) as before, or options. */
  constructor(o: SimVoiceOptions | number = {}, minMs?: number) {
    this.o = typeof o === 'number' ? { msPerChar: o, ...(minMs !== undefined ? { minMs } : {}) } : o;
  }

  durationOf(text: string, req: Omit<SpeakRequest, 'text'> = {}): number {
    if (this.o.msPerChar !== undefined && !this.o.rates) return Math.max(this.o.minMs ?? 400, Math.round([...text].length * this.o.msPerChar));
    const rates = { ...(this.o.msPerChar !== undefined ? { en: this.o.msPerChar, ja: this.o.msPerChar } : {}), ...this.o.rates };
    return speechDurationMs(text, { language: req.language, reading: req.reading, voice: req.voice, rates, minMs: this.o.minMs });
  }

  async speak(req: SpeakRequest, signal: AbortSignal): Promise<Utterance> {
    const durationMs = this.durationOf(req.text, req);
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
