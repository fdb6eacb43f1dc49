/**
 * Backend configuration as a TypeBox schema (JSON Schema underneath), so the show file can
 * embed it and validate a hub's `llm:` section before the show starts.
 */
import { Type, type Static } from '@sinclair/typebox';

export const OnnxBackendConfigSchema = Type.Object(
  {
    kind: Type.Literal('onnx'),
    /** Model folder (config.json, tokenizer.json, onnx/). */
    model: Type.String({ minLength: 1 }),
    executionProvider: Type.Optional(Type.Union([Type.Literal('cpu'), Type.Literal('cuda')], { default: 'cpu' })),
    dtype: Type.Optional(Type.Union([Type.Literal('fp32'), Type.Literal('int8'), Type.Literal('q8'), Type.Literal('fp16'), Type.Literal('q4')])),
    threads: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Upper bound per request, ms (the runtime's time budget). */
    timeBudgetMs: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const OpenAIBackendConfigSchema = Type.Object(
  {
    kind: Type.Literal('openai'),
    /** Including the /v1 suffix, e.g. http://127.0.0.1:8000/v1 (vLLM), http://localhost:11434/v1 (Ollama). */
    baseUrl: Type.String({ pattern: '^https?://' }),
    model: Type.String({ minLength: 1 }),
    apiKey: Type.Optional(Type.String()),
    /** Longest wait for the response to start, and then between two streamed chunks. */
    timeoutMs: Type.Integer({ minimum: 1, default: 10000 }),
    /** Extra attempts on connection errors, timeouts, 429 and 5xx, before any text has streamed. */
    retries: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
  },
  { additionalProperties: false },
);

export const ScriptedBackendConfigSchema = Type.Object(
  {
    kind: Type.Literal('scripted'),
    /** Returned in turn, one per request, wrapping around. */
    lines: Type.Array(Type.String(), { minItems: 1 }),
  },
  { additionalProperties: false },
);

export const BackendConfigSchema = Type.Union([OnnxBackendConfigSchema, OpenAIBackendConfigSchema, ScriptedBackendConfigSchema], {
  $id: 'KurokoTextBackendConfig',
});

export type OnnxBackendConfig = Static<typeof OnnxBackendConfigSchema>;
export type OpenAIBackendConfig = Static<typeof OpenAIBackendConfigSchema>;
export type ScriptedBackendConfig = Static<typeof ScriptedBackendConfigSchema>;
export type BackendConfig = Static<typeof BackendConfigSchema>;
