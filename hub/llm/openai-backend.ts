/**
 * Client for OpenAI-compatible servers (vLLM, llama.cpp server, Ollama, TGI, and Kuroko's own
 * hub server) using Node's built-in fetch and SSE streaming.
 * - timeoutMs bounds the wait for the response to start and then each gap between chunks, so a
 *   long line keeps streaming while a stalled server is noticed quickly.
 * - retries apply to connection errors, timeouts, 429 and 5xx, and only before any text has been
 *   streamed (retrying later would repeat words the robot has already spoken).
 * - aborting req.signal cancels the HTTP request and ends the stream without an error.
 */
import pino, { type Logger } from 'pino';
import type { OpenAIBackendConfig } from './config.ts';
import { readSseData } from './sse.ts';
import { BackendError, type CompletionEnd, type CompletionRequest, type FinishReason, type TextBackend } from './types.ts';

const defaultLog = pino({ name: 'kuroko-llm-openai', level: process.env.LOG_LEVEL ?? 'info' });

class TimeoutError extends Error {}

export class OpenAIBackend implements TextBackend {
  readonly name: string;
  private readonly baseUrl: string;

  private readonly log: Logger;

  constructor(
    private readonly config: OpenAIBackendConfig,
    opts: { logger?: Logger } = {},
  ) {
    this.log = opts.logger ?? defaultLog;
    this.baseUrl = config.baseUrl.replace(/\/+$/, '');
    this.name = `openai:${config.model}@${this.baseUrl}`;
  }

  async *complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd | void> {
    const chat = req.messages !== undefined && req.prompt === undefined;
    if (!chat && req.prompt === undefined) throw new BackendError('request needs a prompt or messages', 400);
    const url = `${this.baseUrl}/${chat ? 'chat/completions' : 'completions'}`;
    const body = JSON.stringify({
      model: this.config.model,
      ...(chat ? { messages: req.messages } : { prompt: req.prompt }),
      max_tokens: req.maxTokens,
      temperature: req.temperature,
      top_p: req.topP,
      stop: req.stop?.length ? req.stop : undefined,
      seed: req.seed,
      stream: true,
      // Structured outputs: the llama.cpp server, vLLM (xgrammar/guidance) and OpenAI all take
      // response_format json_schema, on chat and (llama.cpp, vLLM) plain completions alike.
      ...(req.responseSchema ? { response_format: { type: 'json_schema', json_schema: { name: String(req.responseSchema.title ?? 'answer'), schema: req.responseSchema, strict: true } } } : {}),
    });

    for (let attempt = 0; ; attempt++) {
      let streamed = false;
      const timer = new IdleTimer(this.config.timeoutMs);
      const onAbort = () => timer.controller.abort(new DOMException('aborted', 'AbortError'));
      req.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        if (req.signal?.aborted) return;
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'text/event-stream',
            ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}),
          },
          body,
          signal: timer.controller.signal,
        });
        if (!res.ok || !res.body) {
          const detail = await res.text().catch(() => '');
          throw new BackendError(`${url} answered ${res.status}: ${detail.slice(0, 300)}`, res.status, res.status === 429 || res.status >= 500);
        }
        timer.touch();
        let finishReason: FinishReason | undefined;
        for await (const data of readSseData(res.body)) {
          timer.touch();
          if (data === '[DONE]') break;
          const event = JSON.parse(data) as StreamEvent;
          if (event.error) throw new BackendError(`${url} stream error: ${event.error.message ?? JSON.stringify(event.error)}`);
          const choice = event.choices?.[0];
          const piece = chat ? choice?.delta?.content : choice?.text;
          if (choice?.finish_reason) finishReason = choice.finish_reason === 'length' ? 'length' : 'stop';
          if (piece) {
            streamed = true;
            yield piece;
          }
        }
        return { finishReason: finishReason ?? 'stop' };
      } catch (err) {
        if (req.signal?.aborted) return; // the caller cancelled: end quietly
        const failure = timer.timedOut ? new TimeoutError(`${url}: no data for ${this.config.timeoutMs} ms`) : err;
        const retryable = timer.timedOut || (failure instanceof BackendError ? failure.retryable : !(failure instanceof SyntaxError));
        if (streamed || !retryable || attempt >= this.config.retries) {
          if (failure instanceof BackendError) throw failure;
          throw new BackendError((failure as Error).message, undefined, retryable);
        }
        const delayMs = Math.min(2000, 100 * 2 ** attempt);
        this.log.warn({ url, attempt: attempt + 1, delayMs, err: (failure as Error).message }, 'retrying LLM request');
        await sleep(delayMs, req.signal);
      } finally {
        timer.stop();
        req.signal?.removeEventListener('abort', onAbort);
      }
    }
  }
}

interface StreamEvent {
  choices?: { text?: string; delta?: { content?: string }; finish_reason?: string | null }[];
  error?: { message?: string };
}

/** Aborts its controller when touch() has not been called for `ms`. */
class IdleTimer {
  readonly controller = new AbortController();
  timedOut = false;
  private handle: NodeJS.Timeout | undefined;
  constructor(private readonly ms: number) {
    this.touch();
  }
  touch(): void {
    clearTimeout(this.handle);
    this.handle = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new DOMException('timeout', 'TimeoutError'));
    }, this.ms);
  }
  stop(): void {
    clearTimeout(this.handle);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
