/**
 * Time for the ensemble, injected so scenes, lookahead and latency budgets run the same against
 * the wall clock (on stage) and against a virtual clock (tests, eval, benchmark: a whole scene of
 * simulated performance in milliseconds of CPU, deterministic).
 */
import { performance } from 'node:perf_hooks';
import { abortError } from './backend.ts';

export interface EnsembleClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: EnsembleClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, Math.max(0, ms));
    const onAbort = () => { clearTimeout(t); reject(abortError(signal!)); };
    signal?.addEventListener('abort', onAbort, { once: true });
  }),
};

interface Timer { at: number; seq: number; resolve(): void; reject(e: Error): void; done: boolean }

/**
 * Discrete-event time: sleep() parks until run() advances the clock to it. run() lets every
 * pending promise settle, then jumps to the earliest timer, until the task it drives is over.
 */
export class VirtualClock implements EnsembleClock {
  private t = 0;
  private seq = 0;
  private timers: Timer[] = [];

  now(): number { return this.t; }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const onAbort = () => {
        if (timer.done) return;
        timer.done = true;
        this.timers = this.timers.filter((x) => x !== timer);
        reject(abortError(signal!));
      };
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); }, reject, done: false };
      this.timers.push(timer);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Drives `task` to completion in virtual time. */
  async run<T>(task: Promise<T>): Promise<T> {
    let settled = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    task.then((v) => { settled = true; value = v; }, (e) => { settled = true; failed = true; error = e; });
    for (;;) {
      await drain();
      if (settled) break;
      if (this.timers.length === 0) throw new Error('VirtualClock: the task is waiting on something other than the clock');
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      this.t = Math.max(this.t, next.at);
      next.done = true;
      next.resolve();
    }
    if (failed) throw error;
    return value as T;
  }
}

async function drain(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((r) => setImmediate(r));
}
