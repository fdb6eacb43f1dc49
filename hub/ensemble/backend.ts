/**
 * The text backend the ensemble talks to is hub/llm's TextBackend (onnx, openai, scripted).
 * The deterministic mock improviser and the set-latency wrapper live in mock-backend.ts.
 */
// One backend interface for the whole hub: hub/llm defines it (onnx, openai, scripted).
import type { CompletionRequest, TextBackend } from '../llm/types.ts';
export type { ChatMessage, CompletionRequest, TextBackend } from '../llm/types.ts';

/**
 * How prompts are written for a backend: 'play' is a script that ends in "NAME:" (what a small
 * completion model trained on play dialogue continues best); 'json' asks a chat model for one
 * JSON object. The parser accepts either answer whatever was asked.
 */
export type PromptStyle = 'play' | 'json';

/** Runs a completion to its end and returns the text (throws if aborted). */
export async function completeText(backend: TextBackend, req: CompletionRequest): Promise<string> {
  let out = '';
  for await (const chunk of backend.complete(req)) {
    if (req.signal?.aborted) throw abortError(req.signal);
    out += chunk;
  }
  if (req.signal?.aborted) throw abortError(req.signal);
  return out;
}

export function abortError(signal: AbortSignal): Error {
  const e = new Error(String(signal.reason ?? 'aborted'));
  e.name = 'AbortError';
  return e;
}

/** A rough token count (about 4 characters a token) for prompt budgets. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
