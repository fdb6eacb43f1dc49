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

export const GgufBackendConfigSchema = Type.Object(
  {
    kind: Type.Literal('gguf'),
    /** The .gguf file (relative paths are relative to the config file). */
    model: Type.String({ minLength: 1 }),
    /** cpu (default), auto (whatever GPU the machine has), or a GPU kind. */
    device: Type.Optional(Type.Union([Type.Literal('cpu'), Type.Literal('auto'), Type.Literal('cuda'), Type.Literal('metal'), Type.Literal('vulkan')])),
    /** Layers offloaded to the GPU (default: as many as fit). */
    gpuLayers: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Literal('max'), Type.Literal('auto')])),
    contextSize: Type.Optional(Type.Integer({ minimum: 64 })),
    threads: Type.Optional(Type.Integer({ minimum: 1 })),
    /** For the error when the file is missing: its expected size, and how to get it. */
    expectedBytes: Type.Optional(Type.Integer({ minimum: 1 })),
    download: Type.Optional(Type.String()),
    /** play: a script ending in "NAME:" (small play models); json (default): chat messages asking for JSON (instruct models). */
    promptStyle: Type.Optional(Type.Union([Type.Literal('play'), Type.Literal('json')])),
    /** Throttle the stream to this many tokens/s (rehearsing a slow hub; benchmarks). */
    tokensPerSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
    /**
     * Token-masked decoding (byte-level vocabularies): evaluate text the schema forces as one batch
     * instead of sampling it a token at a time (default true; false to measure what it saves).
     */
    jumpForward: Type.Optional(Type.Boolean()),
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

export const BackendConfigSchema = Type.Union([OnnxBackendConfigSchema, GgufBackendConfigSchema, OpenAIBackendConfigSchema, ScriptedBackendConfigSchema], {
  $id: 'KurokoTextBackendConfig',
});

export type OnnxBackendConfig = Static<typeof OnnxBackendConfigSchema>;
export type OpenAIBackendConfig = Static<typeof OpenAIBackendConfigSchema>;
export type GgufBackendConfig = Static<typeof GgufBackendConfigSchema>;
export type ScriptedBackendConfig = Static<typeof ScriptedBackendConfigSchema>;
export type BackendConfig = Static<typeof BackendConfigSchema>;
