/** The hub's local model through the same onnxruntime runtime the edge nodes use. */
import type { Logger } from 'pino';
import { loadCausalLM, type CausalLM } from '../../models/runtime/index.ts';
import type { OnnxBackendConfig } from './config.ts';
import { renderMessages } from './messages.ts';
import { BackendError, type CompletionEnd, type CompletionRequest, type TextBackend } from './types.ts';

export class OnnxBackend implements TextBackend {
  readonly name: string;
  private model: Promise<CausalLM> | undefined;

  constructor(
    private readonly config: OnnxBackendConfig,
    private readonly opts: { logger?: Logger } = {},
  ) {
    this.name = `onnx:${config.model}`;
  }

  /** Loads on first use (or call it at startup to fail early on a bad model folder). */
  load(): Promise<CausalLM> {
    this.model ??= loadCausalLM(this.config.model, {
      executionProvider: this.config.executionProvider ?? 'cpu',
      dtype: this.config.dtype,
      threads: this.config.threads,
      logger: this.opts.logger,
    });
    return this.model;
  }

  async *complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd> {
    const model = await this.load();
    const prompt = req.prompt ?? (req.messages ? renderMessages(model, req.messages) : undefined);
    if (prompt === undefined) throw new BackendError('request needs a prompt or messages', 400);
    let constraint;
    try {
      constraint = req.responseSchema ? model.jsonConstraint(req.responseSchema) : undefined;
    } catch (e) {
      throw new BackendError(`response schema: ${(e as Error).message}`, 400);
    }
    const gen = model.generate(prompt, {
      ...(constraint ? { constraint } : {}),
      maxNewTokens: req.maxTokens,
      temperature: req.temperature,
      topP: req.topP,
      topK: 0,
      stop: constraint ? undefined : req.stop,
      seed: req.seed,
      signal: req.signal,
      timeBudgetMs: this.config.timeBudgetMs,
    });
    try {
      for (;;) {
        const r = await gen.next();
        if (r.done) {
          const finishReason = r.value.stoppedBy === 'max_tokens' || r.value.stoppedBy === 'context' ? 'length' : 'stop';
          return { finishReason, promptTokens: r.value.promptTokens, completionTokens: r.value.tokens };
        }
        if (r.value.token) yield r.value.token;
      }
    } finally {
      // A consumer that stops reading (an aborted turn) must not leave the model's lock held.
      await gen.return(undefined as never);
    }
  }

  async close(): Promise<void> {
    if (this.model) await (await this.model).dispose();
  }
}
