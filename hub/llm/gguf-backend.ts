/**
 * The hub's GGUF backend: llama.cpp in the hub's own process through node-llama-cpp (pinned
 * 3.21.1). CPU or GPU (CUDA, Metal, Vulkan) by configuration. A request with a responseSchema
 * is always answered with one object of that schema: token-masked decoding with jump-forward for
 * byte-level vocabularies (gguf-masked.ts, public API only), llama.cpp's JSON-schema grammar for
 * the others.
 * The model loads once, with progress in the log; requests run one at a time on one sequence
 * (llama.cpp reuses the prompt prefix the previous request left in the KV cache).
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import pino, { type Logger } from 'pino';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel, LlamaCompletion, LlamaGrammar, Token } from 'node-llama-cpp';
import { JsonConstraint, JsonSchemaMachine, VocabTrie, tokenBytesFromTokenizerJson } from '../../models/runtime/json-constraint.ts';
import type { GgufBackendConfig } from './config.ts';
import { playScriptPrompt } from './messages.ts';
import { AsyncQueue } from './async-queue.ts';
import { Pacer, maskedGenerate } from './gguf-masked.ts';
import { BackendError, type ChatMessage, type CompletionEnd, type CompletionRequest, type TextBackend } from './types.ts';

const defaultLog = pino({ name: 'kuroko-llm-gguf', level: process.env.LOG_LEVEL ?? 'info' });

interface Loaded {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
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
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    const hasTemplate = typeof model.fileInfo.metadata?.tokenizer?.chat_template === 'string';
    const chatWrapper = hasTemplate ? resolveChatWrapper(model) : undefined;
    this.log.info({ model: this.config.model, gpu: llama.gpu || 'cpu', gpuLayers: model.gpuLayers, contextSize: context.contextSize, ms: Date.now() - t0 }, 'GGUF model loaded');
    return { llama, model, context, sequence, completion, ...(chatWrapper ? { chatWrapper } : {}) };
  }

  async *complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd> {
    if (req.prompt === undefined && req.messages === undefined) throw new BackendError('request needs a prompt or messages', 400);
    const m = await this.load();
    const pieces = new AsyncQueue<string>();
    // Throttle to a set rate (benchmarks of a slow hub; off by default): masked decoding paces
    // its own decoding steps (a forced run is one batch), the rest is paced a token a piece here.
    const pacer = new Pacer(this.config.tokensPerSecond);
    const selfPaced = !!(req.responseSchema && this.byteVocab(m));
    const run = this.lock.then(() => { pacer.start(); return this.run(m, req, pieces, pacer); });
    this.lock = run.catch(() => undefined);
    run.then(() => pieces.end(), (e: unknown) => pieces.fail(e));
    for await (const piece of pieces) {
      if (!selfPaced) await pacer.step(1);
      yield piece;
    }
    return run;
  }

  private async run(m: Loaded, req: CompletionRequest, out: AsyncQueue<string>, pacer: Pacer): Promise<CompletionEnd> {
    const input = req.prompt ?? this.renderChat(m, req.messages!);
    const promptTokens = typeof input === 'string' ? m.model.tokenize(input, true).length : input.length;
    const { TokenBias } = await import('node-llama-cpp');
    // Byte-level vocabularies get the same token masking as the ONNX runtime (it knows the token
    // budget and never leaves the object open); the grammar serves every other model.
    const vocab = req.responseSchema ? this.byteVocab(m) : null;
    const constraint = vocab && req.responseSchema ? new JsonConstraint(this.machine(req.responseSchema), vocab.trie, vocab.bytes) : undefined;
    if (constraint) {
      // The budget covers the schema's fixed text and leaves room for what the model writes.
      const maxTokens = Math.max(req.maxTokens, constraint.minBudget());
      let tokens = typeof input === 'string' ? m.model.tokenize(input, false) : [...input];
      const bos = m.model.tokens.bos;
      if (m.model.tokens.shouldPrependBosToken && bos != null && tokens[0] !== bos) tokens = [bos, ...tokens];
      const signal = req.signal ?? new AbortController().signal;
      const res = await maskedGenerate({
        sequence: m.sequence, model: m.model, TokenBias, input: tokens, constraint, tokenBytes: vocab!.bytes, maxTokens,
        temperature: req.temperature ?? 0, ...(req.topP !== undefined ? { topP: req.topP } : {}), ...(req.seed !== undefined ? { seed: req.seed } : {}),
        signal, pacer, emit: (t) => out.push(t), jumpForward: this.config.jumpForward !== false,
      });
      if (res.stop === 'off-mask') this.log.debug('token outside the mask: closing the answer');
      // A model stopped early (the budget, an end it insisted on) gets its object closed.
      if (!constraint.complete && !signal.aborted) out.push(constraint.finish());
      return { finishReason: res.stop === 'length' ? 'length' : 'stop', promptTokens, completionTokens: res.tokens };
    }
    // Every other request: llama.cpp's own completion, under the JSON-schema grammar when asked.
    let tokens = 0;
    const grammar = req.responseSchema ? await this.grammar(m, req.responseSchema) : undefined;
    let emitted = '';
    const res = await m.completion.generateCompletionWithMeta(input, {
      maxTokens: req.maxTokens,
      temperature: req.temperature ?? 0,
      ...(req.topP !== undefined ? { topP: req.topP } : {}),
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      ...(req.stop?.length && !req.responseSchema ? { customStopTriggers: req.stop } : {}),
      ...(grammar ? { grammar } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
      stopOnAbortSignal: true,
      onToken: (t) => { tokens += t.length; },
      onTextChunk: (text) => { if (text) { emitted += text; out.push(text); } },
    });
    const reason = res.metadata.stopReason;
    // Text still held back when generation stopped (llama.cpp holds what might start a stop trigger).
    if (res.response.length > emitted.length && res.response.startsWith(emitted)) out.push(res.response.slice(emitted.length));
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

  private vocab: { trie: VocabTrie; bytes: (Uint8Array | null)[] } | null | undefined;
  /**
   * A byte-level BPE vocabulary (GPT-2 style, as kuroko-tiny's) as token bytes, for token-masked
   * decoding; null for other vocabularies (SentencePiece: Gemma, Llama), which use the grammar.
   */
  private byteVocab(m: Loaded): { trie: VocabTrie; bytes: (Uint8Array | null)[] } | null {
    if (this.vocab !== undefined) return this.vocab;
    const tok = (m.model.fileInfo.metadata?.tokenizer as { ggml?: { model?: string; tokens?: readonly string[]; token_type?: readonly number[] } } | undefined)?.ggml;
    if (tok?.model !== 'gpt2' || !tok.tokens || tok.tokens.length > 65_536) return (this.vocab = null);
    const vocab: Record<string, number> = {};
    tok.tokens.forEach((t, id) => { if ((tok.token_type?.[id] ?? 1) === 1) vocab[t] = id; });
    const bytes = tokenBytesFromTokenizerJson({ model: { vocab } }, tok.tokens.length);
    return (this.vocab = { trie: new VocabTrie(bytes), bytes });
  }

  private readonly machines = new Map<string, JsonSchemaMachine>();
  private machine(schema: Record<string, unknown>): JsonSchemaMachine {
    const key = JSON.stringify(schema);
    let mm = this.machines.get(key);
    if (!mm) {
      try { mm = new JsonSchemaMachine(schema); } catch (e) { throw new BackendError(`response schema: ${(e as Error).message}`, 400); }
      if (this.machines.size > 32) this.machines.delete(this.machines.keys().next().value!);
      this.machines.set(key, mm);
    }
    return mm;
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
