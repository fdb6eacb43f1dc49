/** Waiting on a promise until a time of an ensemble clock (virtual or real). */
import type { EnsembleClock } from './clock.ts';

/** Resolves with the value if `p` settles before `until` (clock time), else null. */
export async function raceUntil<T>(p: Promise<T>, clock: EnsembleClock, until: number, signal?: AbortSignal): Promise<T | null> {
  let done = false;
  let value: T | null = null;
  let error: unknown = null;
  const ctl = new AbortController();
  const watched = p.then((v) => { done = true; value = v; ctl.abort('ready'); }, (e) => { done = true; error = e; ctl.abort('failed'); });
  const onAbort = () => ctl.abort('aborted');
  signal?.addEventListener('abort', onAbort, { once: true });
  const wait = until - clock.now();
  if (wait > 0 && !done) await clock.sleep(wait, ctl.signal).catch(() => undefined);
  else await Promise.race([watched, Promise.resolve()]);
  signal?.removeEventListener('abort', onAbort);
  if (error && !(error instanceof Error && error.name === 'AbortError')) throw error;
  return done ? value : null;
}
