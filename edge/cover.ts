/**
 * Covering for the hub: when to let the local model speak (a late line, a silent hub, someone
 * close), how often, and never over a line being performed. Speaking is all it does.
 */
import type { Logger } from 'pino';
import type { TranscriptLineT } from '../protocol/index.ts';
import type { Adlibber, AdlibReason } from './adlib.ts';
import type { SpeechEngine } from './voice/types.ts';
import type { SafetyGate } from './safety.ts';
import type { CueExecutor } from './cue-executor.ts';
import type { ShowClock } from './show-clock.ts';

/** How often the node may ad-lib for each reason, so it covers without chattering. */
const MIN_GAP_MS: Record<AdlibReason, number> = { 'hub-lost': 20000, 'late-line': 3000, proximity: 15000 };

export interface CoverDeps {
  adlib: Adlibber;
  voice: SpeechEngine;
  gate: SafetyGate;
  executor: CueExecutor;
  clock: ShowClock;
  log: Logger;
  character: string;
  publishLine(line: Omit<TranscriptLineT, 'v' | 'ts' | 'node'>): void;
  publishEvent(data: Record<string, unknown>): void;
}

export class CoverForHub {
  private busy = false;
  private readonly last = new Map<AdlibReason, number>();
  private hubLostTimer: NodeJS.Timeout | null = null;

  constructor(private readonly d: CoverDeps) {}

  /** While the hub is gone (the watchdog put the node in init), ad-lib now and then. */
  followHub(state: string, reason: string): void {
    if (state === 'init' && reason.startsWith('watchdog')) {
      this.speak('hub-lost');
      // Check often (the node may be busy speaking); the minimum gap keeps it from chattering.
      this.hubLostTimer ??= setInterval(() => this.speak('hub-lost'), 2000);
      this.hubLostTimer.unref();
    } else if (this.hubLostTimer && state !== 'init') {
      clearInterval(this.hubLostTimer);
      this.hubLostTimer = null;
    }
  }

  /** Speaks one line from the local model (in `scene` when it covers one of its lines); false when it will not. */
  speak(reason: AdlibReason, scene: string | null = null): boolean {
    const { adlib, gate, executor } = this.d;
    if (this.busy || executor.speaking) return false;
    if (gate.state === 'estopped' || gate.state === 'fault') return false;
    if (Date.now() - (this.last.get(reason) ?? -Infinity) < MIN_GAP_MS[reason]) return false;
    this.last.set(reason, Date.now());
    this.busy = true;
    void (async () => {
      try {
        const { text, fromModel, ms } = await adlib.line(reason);
        const startShowTime = this.d.clock.showNow();
        // A Japanese character's ad-lib is spoken by the Japanese voice (its kanji read by MeCab, voice/reading.ts).
        const u = await this.d.voice.speak({ text, ...(adlib.japanese ? { language: 'ja' } : {}) }, new AbortController().signal);
        this.d.log.info({ reason, text, fromModel, ms: Math.round(ms) }, `${this.d.character} ad-libs (${reason}): ${text}`);
        this.d.publishLine({ character: this.d.character, text, scene, cue: null, source: 'adlib', startShowTime, durationMs: u.durationMs });
        this.d.publishEvent({ reason, text, fromModel, generationMs: Math.round(ms) });
        await u.done;
      } catch (e) {
        this.d.log.warn({ err: (e as Error).message }, `${this.d.character}: ad-lib failed`);
      } finally {
        this.busy = false;
      }
    })();
    return true;
  }

  close(): void {
    if (this.hubLostTimer) clearInterval(this.hubLostTimer);
    this.hubLostTimer = null;
  }
}
