/** The one interface every hub text backend implements (local ONNX, remote OpenAI-compatible, scripted). */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  /** Speaker name, e.g. a character; used by play-format prompts. */
  name?: string;
}

export interface CompletionRequest {
  /** Raw prompt (completion style). Give either prompt or messages. */
  prompt?: string;
  /** Chat style; rendered with the model's chat template when it has one. */
  messages?: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  /**
   * A JSON schema the answer must match. Backends enforce it while decoding (a grammar on gguf,
   * response_format on OpenAI-compatible servers, token masking on onnx), so the answer is one
   * JSON object of this schema; the scripted backend ignores it.
   */
  responseSchema?: Record<string, unknown>;
  /** Aborting ends the stream early without an error. */
  signal?: AbortSignal;
}

export type FinishReason = 'stop' | 'length';

export interface CompletionEnd {
  finishReason: FinishReason;
  promptTokens?: number;
  completionTokens?: number;
}

/**
 * complete() streams text pieces; the generator's return value says why it ended
 * (a plain `for await` ignores it; the OpenAI-compatible server reports it as finish_reason).
 */
export interface TextBackend {
  readonly name: string;
  complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd | void>;
  close?(): Promise<void>;
}

export class BackendError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}
