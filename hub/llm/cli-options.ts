/**
 * The model flags shared by `kuroko hub` and `kuroko demo`: which backend writes the improvised
 * lines (--llm FILE), and whether the hub serves it as an OpenAI-compatible endpoint (--serve-llm).
 */
import type { Logger } from 'pino';
import { UsageError } from '../../bin/errors.ts';
import { createBackend } from './create-backend.ts';
import { GgufBackend } from './gguf-backend.ts';
import { loadBackendConfig, promptStyleFor } from './load-config.ts';
import { metered } from './metered.ts';
import { startOpenAIServer, type RunningServer } from './openai-server.ts';
import type { TextBackend } from './types.ts';

export const LLM_OPTIONS = {
  llm: { type: 'string' },
  'serve-llm': { type: 'string' },
} as const;

export const LLM_HELP = `  --llm FILE         the model backend for improvised lines (YAML: kind onnx | gguf | openai | scripted;
                     see deploy/llm/); default: the built-in deterministic improviser
  --serve-llm PORT   also serve that backend as an OpenAI-compatible API on PORT (/v1/completions,
                     /v1/chat/completions, streaming)`;

export interface ModelSetup {
  backend?: TextBackend;
  style?: 'play' | 'json';
  server?: RunningServer;
  describe(): string[];
  close(): Promise<void>;
}

export async function setupModel(values: { llm?: string; 'serve-llm'?: string }, log: Logger): Promise<ModelSetup> {
  if (values['serve-llm'] !== undefined && !values.llm) throw new UsageError('--serve-llm needs --llm FILE (the backend to serve)');
  if (!values.llm) return { describe: () => [], close: async () => undefined };
  const config = loadBackendConfig(values.llm);
  const inner = createBackend(config, { logger: log });
  if (inner instanceof GgufBackend) {
    // Refuse at startup, naming the file and how to get it, and load now (with progress) rather than on the first line.
    try { await inner.load(); } catch (e) { throw new UsageError(`${values.llm}: ${(e as Error).message}`); }
  }
  const backend = metered(inner);
  let server: RunningServer | undefined;
  if (values['serve-llm'] !== undefined) {
    const port = Number(values['serve-llm']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--serve-llm ${values['serve-llm']} is not a port number`);
    server = await startOpenAIServer({ backend, modelId: config.kind === 'openai' ? config.model : config.kind === 'onnx' || config.kind === 'gguf' ? config.model.split('/').filter(Boolean).pop()! : 'scripted', port, logger: log });
  }
  return {
    backend,
    style: promptStyleFor(config),
    server,
    describe: () => [`  model   ${config.kind} backend (${values.llm})${server ? `, served at ${server.url}/v1` : ''}`],
    async close() {
      await server?.close();
      await backend.close?.();
    },
  };
}
