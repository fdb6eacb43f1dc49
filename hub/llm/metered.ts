/**
 * Wraps a backend so every request is counted in the hub's metrics: request rate, response time,
 * tokens and tokens/s (kuroko_model_*). The stream passes through untouched.
 */
import { performance } from 'node:perf_hooks';
import { recordModelRequest } from '../metrics.ts';
import type { CompletionEnd, CompletionRequest, TextBackend } from './types.ts';

export function metered(inner: TextBackend): TextBackend {
  return {
    name: inner.name,
    close: inner.close?.bind(inner),
    async *complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd | void> {
      const t0 = performance.now();
      let pieces = 0;
      let ok = false;
      let end: CompletionEnd | void = undefined;
      const it = inner.complete(req);
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) { end = r.value; break; }
          pieces++;
          yield r.value;
        }
        ok = true;
        return end;
      } finally {
        // A consumer that stops reading (an aborted turn) closes the inner stream too, so a
        // local model's lock is released.
        if (!ok) await it.return(undefined).catch(() => undefined);
        // Streamed pieces are tokens for the local model; a remote one may say how many it made.
        const tokens = (end && end.completionTokens) || pieces;
        recordModelRequest({ durationMs: performance.now() - t0, tokens, ok, backend: inner.name });
      }
    },
  };
}
