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
      try {
        const it = inner.complete(req);
        for (;;) {
          const r = await it.next();
          if (r.done) { end = r.value; break; }
          pieces++;
          yield r.value;
        }
        ok = true;
        return end;
      } finally {
        // Streamed pieces are tokens for the local model; a remote one may say how many it made.
        const tokens = (end && end.completionTokens) || pieces;
        recordModelRequest({ durationMs: performance.now() - t0, tokens, ok, backend: inner.name });
      }
    },
  };
}
