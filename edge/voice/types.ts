/**
 * A speech engine speaks a line and says how long it takes. Engines sit behind this interface so
 * better ones can be added (the simulated voice, espeak-ng, ...).
 */
export interface SpeakRequest {
  text: string;
  language?: string;
  voice?: string;
  /** How to say the text, in kana (a Japanese line's reading, from the hub or the node's MeCab). */
  reading?: string;
}

export interface Utterance {
  /** How long the line takes, in ms, known before it starts (for acks and jaw sync). */
  durationMs: number;
  /** Mouth opening over time (0..1), sampled every frameMs, when the engine knows it. */
  envelope?: { frameMs: number; values: number[] };
  /** Resolves when the line has been spoken, or rejects when aborted. */
  done: Promise<void>;
}

export interface SpeechEngine {
  readonly name: string;
  /** Starts speaking. Abort the signal to cut the line short. */
  speak(req: SpeakRequest, signal: AbortSignal): Promise<Utterance>;
}
