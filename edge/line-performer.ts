/**
 * Performs a line cue: the emotion on the eye LED (only while armed: a disarmed node speaks in the
 * dark), the voice, the jaw following the voice's envelope, and the transcript (part by part for a
 * streamed line, journaled once: edge/line-parts.ts). A part of a streamed line waits until the
 * part before it has been said (edge/part-order.ts), then follows at once.
 */
import type { CueT } from '../protocol/index.ts';
import type { ProfileT } from '../firmware-config/profile-schema.ts';
import type { SpeechEngine } from './voice/types.ts';
import type { SafetyGate } from './safety.ts';
import type { MotionController } from './motion.ts';
import type { ShowClock } from './show-clock.ts';
import type { LineParts } from './line-parts.ts';
import type { PartOrder } from './part-order.ts';
import { emotionColor } from './emotion-colors.ts';

export interface LinePerformerDeps {
  profile: ProfileT;
  voice: SpeechEngine;
  gate: SafetyGate;
  motion: MotionController;
  clock: ShowClock;
  lineParts: LineParts;
  partOrder: PartOrder;
}

export async function performLine(cue: Extract<CueT, { kind: 'line' }>, d: LinePerformerDeps, signal: AbortSignal, started: (durationMs: number) => void): Promise<void> {
  const p = cue.params;
  const place = p.part ? d.partOrder.enter(p.part, signal) : undefined;
  try {
    if (place) await place.before;
    if (signal.aborted) return;
    const emotionLed = d.profile.leds?.find((l) => l.emotion);
    if (emotionLed && p.emotion) d.gate.acquire(`cue:${cue.id}`)?.writeLed(emotionLed.id, emotionColor(p.emotion), 0.3 + 0.7 * (p.intensity ?? 0.6));
    const startShowTime = d.clock.showNow();
    const utterance = await d.voice.speak({ text: p.text, language: p.language, ...(p.reading ? { reading: p.reading } : {}) }, signal);
    started(utterance.durationMs);
    d.lineParts.spoken({ character: p.character, text: p.text, emotion: p.emotion, scene: cue.scene, cue: cue.id, source: 'hub', startShowTime, durationMs: utterance.durationMs }, p.part);
    const jaw = d.profile.servos?.find((s) => s.role === 'jaw');
    if (jaw && utterance.envelope) void d.motion.followEnvelope(jaw.id, utterance.envelope);
    await utterance.done;
  } finally {
    place?.done();
  }
}
