/**
 * The hub's GGUF backend: llama.cpp in the hub's own process through node-llama-cpp (pinned
 * 3.21.1). CPU or GPU (CUDA, Metal, Vulkan) by configuration. A request with a responseSchema
 * is decoded under a JSON-schema grammar, so the answer is always one object of that schema.
 * The model loads once, with progress in the log; requests run one at a time on one sequence
 * (llama.cpp reuses the prompt prefix the previous request left in the KV cache).
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import pino, { type Logger } from 'pino';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaContext, LlamaModel, LlamaCompletion, LlamaGrammar, Token } from 'node-llama-cpp';
import type { GgufBackendConfig } from './config.ts';
import { playScriptPrompt } from './messages.ts';
import { AsyncQueue } from './async-queue.ts';
import { BackendError, type ChatMessage, type CompletionEnd, type CompletionRequest, type TextBackend } from './types.ts';

const defaultLog = pino({ name: 'kuroko-llm-gguf', level: process.env.LOG_LEVEL ?? 'info' });

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  completion: LlamaCompletion;
  /** The model's chat template, when its GGUF has one. */
  chatWrapper?: ChatWrapper;
}

/** A clear refusal for a missing model file: which file, how big it should be, how to get it. */
export class GgufModelMissingError extends Error {
  constructor(readonly file: string, config: GgufBackendConfig) {
    const size = config.expectedBytes ? ` (about ${(config.expectedBytes / 1e9).toFixed(2)} GB)` : '';
    super(`GGUF model ${file} not found${size}.` + (config.download ? ` Get it with: ${config.download}` : ' Download a .gguf file and set `model:` to its path.'));
    this.name = 'GgufModelMissingError';
  }
}

export class GgufBackend implements TextBackend {
  readonly name: string;
  private loaded: Promise<Loaded> | undefined;
  /** One request at a time on the one sequence. */
  private lock: Promise<unknown> = Promise.resolve();
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly log: Logger;

  constructor(private readonly config: GgufBackendConfig, opts: { logger?: Logger } = {}) {
    this.log = opts.logger ?? defaultLog;
    this.name = `gguf:${config.model.split('/').pop()}`;
  }

  /** Checks the file exists (before anything heavy), so a hub refuses early with the fix. */
  checkFile(): void {
    if (!existsSync(this.config.model) || !statSync(this.config.model).isFile()) throw new GgufModelMissingError(this.config.model, this.config);
  }

  /** Loads on first use; call at startup to fail early and show the load progress. */
  load(onProgress?: (fraction: number) => void): Promise<Loaded> {
    this.loaded ??= this.doLoad(onProgress);
    return this.loaded;
  }

  private async doLoad(onProgress?: (fraction: number) => void): Promise<Loaded> {
    this.checkFile();
    const { getLlama, LlamaCompletion, resolveChatWrapper } = await import('node-llama-cpp');
    const device = this.config.device ?? 'cpu';
    // gpu:false loads the CPU build; 'auto' takes CUDA/Metal/Vulkan when the machine has one.
    const llama = await getLlama({ gpu: device === 'cpu' ? false : device, logLevel: 'error' as never, progressLogs: false, ...(this.config.threads ? { maxThreads: this.config.threads } : {}) });
    let lastTenth = -1;
    const t0 = Date.now();
    const model = await llama.loadModel({
      modelPath: this.config.model,
      ...(device === 'cpu' ? { gpuLayers: 0 } : this.config.gpuLayers !== undefined ? { gpuLayers: this.config.gpuLayers } : {}),
      onLoadProgress: (p: number) => {
        onProgress?.(p);
        const tenth = Math.floor(p * 10);
        if (tenth !== lastTenth) { lastTenth = tenth; this.log.info({ model: this.config.model, progress: Math.round(p * 100) }, 'loading GGUF model'); }
      },
    });
    const context = await model.createContext({
      contextSize: Math.min(this.config.contextSize ?? 2048, model.trainContextSize),
      sequences: 1,
      // llama.cpp's worker threads spin while they wait: on a busy machine, one thread per core
      // made a 1.35 M model ~30x slower. Leave a core to the hub (MQTT, the web page) by default.
      threads: this.config.threads ?? Math.max(1, Math.min(8, availableParallelism() - 1)),
    });
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const hasTemplate = typeof model.fileInfo.metadata?.tokenizer?.chat_template === 'string';
    const chatWrapper = hasTemplate ? resolveChatWrapper(model) : undefined;
    this.log.info({ model: this.config.model, gpu: llama.gpu || 'cpu', gpuLayers: model.gpuLayers, contextSize: context.contextSize, ms: Date.now() - t0 }, 'GGUF model loaded');
    return { llama, model, context, completion, ...(chatWrapper ? { chatWrapper } : {}) };
  }

  async *complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd> {
    if (req.prompt === undefined && req.messages === undefined) throw new BackendError('request needs a prompt or messages', 400);
    const m = await this.load();
    const pieces = new AsyncQueue<string>();
    const run = this.lock.then(() => this.run(m, req, pieces));
    this.lock = run.catch(() => undefined);
    run.then(() => pieces.end(), (e: unknown) => pieces.fail(e));
    // Throttle to a set rate (benchmarks of a slow hub; off by default).
    const tps = this.config.tokensPerSecond;
    const t0 = Date.now();
    let n = 0;
    for await (const piece of pieces) {
      n++;
      if (tps) {
        const due = t0 + (n / tps) * 1000 - Date.now();
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      }
      yield piece;
    }
    return run;
  }

  private async run(m: Loaded, req: CompletionRequest, out: AsyncQueue<string>): Promise<CompletionEnd> {
    const input = req.prompt ?? this.renderChat(m, req.messages!);
    const grammar = req.responseSchema ? await this.grammar(m, req.responseSchema) : undefined;
    let tokens = 0;
    const promptTokens = typeof input === 'string' ? m.model.tokenize(input, true).length : input.length;
    const res = await m.completion.generateCompletionWithMeta(input, {
      maxTokens: req.maxTokens,
      temperature: req.temperature ?? 0,
      ...(req.topP !== undefined ? { topP: req.topP } : {}),
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      ...(req.stop?.length && !grammar ? { customStopTriggers: req.stop } : {}),
      ...(grammar ? { grammar } : {}),
      ...(req.signal ? { signal: req.signal, stopOnAbortSignal: true } : {}),
      onToken: (t) => { tokens += t.length; },
      onTextChunk: (text) => { if (text) out.push(text); },
    });
    const reason = res.metadata.stopReason;
    return { finishReason: reason === 'maxTokens' ? 'length' : 'stop', promptTokens, completionTokens: tokens };
  }

  /** Chat messages through the model's own chat template (Gemma, Llama); a play script for a model without one. */
  private renderChat(m: Loaded, messages: readonly ChatMessage[]): string | Token[] {
    if (!m.chatWrapper) return playScriptPrompt(messages);
    const history: ChatHistoryItem[] = messages.map((msg) => msg.role === 'system' ? { type: 'system' as const, text: msg.content }
      : msg.role === 'user' ? { type: 'user' as const, text: msg.content } : { type: 'model' as const, response: [msg.content] });
    history.push({ type: 'model', response: [] });
    return m.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(m.model.tokenizer);
  }

  private grammar(m: Loaded, schema: object): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let g = this.grammars.get(key);
    if (!g) {
      g = m.llama.createGrammarForJsonSchema(schema as never) as Promise<LlamaGrammar>;
      g.catch(() => this.grammars.delete(key));
      // A scene has a handful of speakers: keep a few grammars, not one per request forever.
      if (this.grammars.size > 32) this.grammars.delete(this.grammars.keys().next().value!);
      this.grammars.set(key, g);
    }
    return g;
  }

  async close(): Promise<void> {
    if (!this.loaded) return;
    const m = await this.loaded.catch(() => undefined);
    if (!m) return;
    await m.context.dispose();
    await m.model.dispose();
  }
}
