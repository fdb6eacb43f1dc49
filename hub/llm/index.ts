/** Hub text generation: one TextBackend interface, three kinds of backend, and an OpenAI-compatible server. */
export * from './types.ts';
export * from './config.ts';
export { createBackend } from './create-backend.ts';
export { GgufBackend, GgufModelMissingError } from './gguf-backend.ts';
export { OnnxBackend } from './onnx-backend.ts';
export { OpenAIBackend } from './openai-backend.ts';
export { ScriptedBackend } from './scripted-backend.ts';
export { renderMessages, playScriptPrompt } from './messages.ts';
export { startOpenAIServer, CompletionBodySchema, ChatBodySchema, type OpenAIServerOptions, type RunningServer } from './openai-server.ts';
