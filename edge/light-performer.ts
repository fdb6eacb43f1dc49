/**
 * Performs a light cue through a lease of the safety gate (lights need the node armed, like any
 * output): the colour and brightness are written at once, then the cue holds for its fade time.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { CueT } from '../protocol/index.ts';
import type { SafetyGate } from './safety.ts';

export async function performLight(cue: Extract<CueT, { kind: 'light' }>, gate: SafetyGate, signal: AbortSignal, started: (durationMs: number) => void): Promise<void> {
  const p = cue.params;
  const lease = gate.acquire(`cue:${cue.id}`);
  if (!lease) throw new Error(`node is ${gate.state}: lights need the node armed`);
  started(p.fadeMs ?? 0);
  lease.writeLed(p.led, hexToRgb(p.color ?? '#ffffff'), p.brightness);
  // An abort ends the hold; the executor reports why.
  await delay(p.fadeMs ?? 0, undefined, { signal }).catch(() => undefined);
}

export function hexToRgb(hex: string): { r: number; g: number; b: number } {
  const n = parseInt(hex.slice(1), 16);
  return { r: (n >> 16) & 255, g: (n >> 8) & 255, b: n & 255 };
}
