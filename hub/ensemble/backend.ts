/**
 * The text backend the ensemble talks to. This is the same structural shape as hub/llm's
 * TextBackend (onnx, openai, scripted); anything with this shape plugs in. The deterministic
 * mock improviser and the set-latency wrapper live in mock-backend.ts.
 */
export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }

export interface CompletionRequest {
  prompt?: string;
  messages?: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  signal?: AbortSignal;
}

export interface TextBackend {
  name: string;
  complete(req: CompletionRequest): AsyncIterable<string>;
}

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
