/**
 * The real backends for `npm run eval -- --backend onnx|gguf|openai [--llm FILE]`: the backend a
 * config file in deploy/llm/ describes (onnx: the shipped kuroko-tiny; gguf: kuroko-tiny's GGUF
 * export; openai: deploy/llm/vllm.yaml, or any --llm FILE), loaded once for every run, and
 * counting the tokens it streams and the time it spends streaming them (tokens/s).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend } from '../../hub/llm/create-backend.ts';
import { loadBackendConfig, promptStyleFor } from '../../hub/llm/load-config.ts';
import type { CompletionEnd, CompletionRequest, TextBackend } from '../../hub/llm/types.ts';
import type { PromptStyle } from '../../hub/ensemble/backend.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const DEFAULT_CONFIG: Record<string, string> = {
  onnx: 'deploy/llm/kuroko-tiny.yaml',
  gguf: 'deploy/llm/kuroko-tiny-gguf.yaml',
  openai: 'deploy/llm/vllm.yaml',
};

export const REAL_BACKENDS = Object.keys(DEFAULT_CONFIG);

export interface RealBackend {
  backend: TextBackend;
  style: PromptStyle;
  file: string;
  /** Tokens streamed and ms spent streaming them, over every request so far. */
  meter: { tokens: number; ms: number };
}

const loaded = new Map<string, RealBackend>();

export async function realBackend(kind: string, llmFile?: string): Promise<RealBackend> {
  const file = llmFile ?? DEFAULT_CONFIG[kind];
  if (!file) throw new Error(`unknown --backend ${kind} (mock, ${REAL_BACKENDS.join(', ')}, or module:FILE.ts)`);
  const have = loaded.get(file);
  if (have) return have;
  // The default files live in the repo; a file given with --llm is relative to where eval runs.
  const config = loadBackendConfig(llmFile ? resolve(llmFile) : resolve(ROOT, file));
  if (config.kind !== kind) throw new Error(`${file} describes a ${config.kind} backend, not ${kind}`);
  // The eval measures the model, not a deadline: no time budget cuts a slow answer short.
  if (config.kind === 'onnx') delete config.timeBudgetMs;
  const inner = createBackend(config);
  const meter = { tokens: 0, ms: 0 };
  const backend: TextBackend = {
    name: inner.name,
    async *complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd | void> {
      const t0 = performance.now();
      let pieces = 0;
      const it = inner.complete(req);
      try {
        for (;;) {
          const r = await it.next();
          if (r.done) {
            meter.tokens += (r.value && r.value.completionTokens) || pieces;
            return r.value;
          }
          pieces++;
          yield r.value;
        }
      } finally {
        meter.ms += performance.now() - t0;
        await it.return(undefined);
      }
    },
    close: inner.close?.bind(inner),
  };
  const rb = { backend, style: promptStyleFor(config), file, meter };
  loaded.set(file, rb);
  return rb;
}
