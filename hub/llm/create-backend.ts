/** Builds a TextBackend from a validated configuration. */
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import {
  BackendConfigSchema,
  GgufBackendConfigSchema,
  OnnxBackendConfigSchema,
  OpenAIBackendConfigSchema,
  ScriptedBackendConfigSchema,
  type BackendConfig,
} from './config.ts';
import { GgufBackend } from './gguf-backend.ts';
import { OnnxBackend } from './onnx-backend.ts';
import { OpenAIBackend } from './openai-backend.ts';
import { ScriptedBackend } from './scripted-backend.ts';
import type { TextBackend } from './types.ts';

const BY_KIND = { onnx: OnnxBackendConfigSchema, gguf: GgufBackendConfigSchema, openai: OpenAIBackendConfigSchema, scripted: ScriptedBackendConfigSchema };

export function createBackend(config: BackendConfig, opts: { logger?: Logger } = {}): TextBackend {
  // Validate against the member schema named by `kind`: a union's own error ("Expected union
  // value") would not say which field is wrong.
  const kind = (config as { kind?: unknown })?.kind;
  const schema = BY_KIND[kind as keyof typeof BY_KIND] ?? BackendConfigSchema;
  // Fill schema defaults (timeoutMs, retries) and reject anything the schema does not allow.
  const filled = Value.Default(schema, structuredClone(config)) as BackendConfig;
  if (!Value.Check(schema, filled)) {
    const e = [...Value.Errors(schema, filled)][0];
    throw new Error(`invalid LLM backend config (kind ${String(kind)}) at ${e?.path || '/'}: ${e?.message}`);
  }
  switch (filled.kind) {
    case 'onnx':
      return new OnnxBackend(filled, opts);
    case 'gguf':
      return new GgufBackend(filled, opts);
    case 'openai':
      return new OpenAIBackend(filled, opts);
    case 'scripted':
      return new ScriptedBackend(filled.lines);
  }
}
