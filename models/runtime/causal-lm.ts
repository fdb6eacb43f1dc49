/**
 * One generation runtime for hub and edge: a hand-written KV-cache decoding loop on
 * onnxruntime-node (30-40 % faster than transformers.js' generate on small models, NOTES.md),
 * with transformers.js used only for the tokenizer.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino, { type Logger } from 'pino';
import { ModelConfigError, ModelFileError } from './errors.ts';
import { expectedSha, fileExists, readManifest, verifyManifestFiles, type ModelManifest } from './manifest.ts';
import { readDecoderShape, type DecoderShape } from './model-config.ts';
import { createRng, sampleToken, type SamplingOptions } from './sampler.ts';
import { createSession, ort, type ExecutionProvider } from './session.ts';
import { StopStringMatcher } from './stop-strings.ts';
import { JsonConstraint, JsonSchemaMachine, VocabTrie, tokenBytesFromTokenizerJson, type TokenConstraint } from './json-constraint.ts';
import { IncrementalDecoder, decode, encode, loadTokenizer, type Tokenizer } from './tokenizer.ts';

/** Weight formats by the file names optimum / transformers.js use. */
export const ONNX_FILES = {
  fp32: 'onnx/model.onnx',
  int8: 'onnx/model_int8.onnx',
  q8: 'onnx/model_quantized.onnx',
  fp16: 'onnx/model_fp16.onnx',
  q4: 'onnx/model_q4.onnx',
} as const;
export type ModelDtype = keyof typeof ONNX_FILES;

export interface LoadProgress {
  stage: 'verify' | 'tokenizer' | 'session' | 'ready';
  /** 0..1 over the whole load */
  fraction: number;
  file?: string;
}

export interface LoadOptions {
  executionProvider?: ExecutionProvider;
  threads?: number;
  deviceId?: number;
  /** Which weights to load. Default: the manifest's defaultDtype, else fp32. */
  dtype?: ModelDtype;
  /** Explicit ONNX file relative to the folder (e.g. 'onnx/decoder_model_merged.onnx'); overrides dtype. */
  file?: string;
  /** Check sha256 of the files against manifest.json (default true when a manifest exists). */
  verify?: boolean;
  onProgress?: (p: LoadProgress) => void;
  logger?: Logger;
}

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens?: number;
  /** Seed for sampling; the same seed, prompt and options give the same tokens. Default 0. */
  seed?: number;
  /** Generation ends before any of these strings; the stop string is not returned. */
  stop?: readonly string[];
  /** Wall-clock budget for the whole call (prompt + generation), in ms. */
  timeBudgetMs?: number;
  signal?: AbortSignal;
  /** Keep going past the end-of-text token (benchmarks that need a fixed output length). */
  ignoreEos?: boolean;
  /**
   * Masks the logits at each step (token-masked decoding, e.g. a JSON schema: see
   * jsonConstraint()); generation ends as soon as the constraint is complete.
   */
  constraint?: TokenConstraint;
}

export interface GenerationChunk {
  /** Text of this piece (may be several tokens' worth, or empty-held until a character completes). */
  token: string;
  tokenIds: number[];
}

export type StopReason = 'eos' | 'stop' | 'max_tokens' | 'time' | 'abort' | 'context';

export interface GenerationResult {
  text: string;
  /** Number of generated tokens. */
  tokens: number;
  tokenIds: number[];
  promptTokens: number;
  /** Time to the first generated token, ms (NaN if none). */
  ttftMs: number;
  totalMs: number;
  stoppedBy: StopReason;
}

const defaultLogger = pino({ name: 'kuroko-model', level: process.env.LOG_LEVEL ?? 'info' });

export class CausalLM {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly dtype: ModelDtype,
    readonly shape: DecoderShape,
    readonly tokenizer: Tokenizer,
    private readonly session: ort.InferenceSession,
    readonly manifest: ModelManifest | undefined,
    private readonly log: Logger,
  ) {}

  private vocab: { trie: VocabTrie; bytes: (Uint8Array | null)[] } | undefined;
  private readonly machines = new Map<string, JsonSchemaMachine>();

  /** A fresh constraint that keeps one answer inside `schema` (compiled once per schema, vocabulary walked as a trie). */
  jsonConstraint(schema: Record<string, unknown>): TokenConstraint {
    if (!this.vocab) {
      const tj = JSON.parse(readFileSync(join(this.dir, 'tokenizer.json'), 'utf8')) as Parameters<typeof tokenBytesFromTokenizerJson>[0];
      const bytes = tokenBytesFromTokenizerJson(tj, this.shape.vocabSize);
      this.vocab = { trie: new VocabTrie(bytes), bytes };
    }
    const key = JSON.stringify(schema);
    let m = this.machines.get(key);
    if (!m) {
      m = new JsonSchemaMachine(schema);
      if (this.machines.size > 32) this.machines.delete(this.machines.keys().next().value!);
      this.machines.set(key, m);
    }
    return new JsonConstraint(m, this.vocab.trie, this.vocab.bytes);
  }

  get contextLength(): number {
    return this.shape.contextLength;
  }

  encode(text: string): number[] {
    return encode(this.tokenizer, text);
  }

  decode(ids: readonly number[]): string {
    return decode(this.tokenizer, ids);
  }

  /**
   * Streams generated text. The generator's return value is the GenerationResult.
   * Calls on one model run one at a time (a session holds one KV cache per call; queueing
   * keeps latency predictable on a small CPU).
   */
  async *generate(prompt: string, opts: GenerateOptions = {}): AsyncGenerator<GenerationChunk, GenerationResult> {
    const release = await this.acquire();
    try {
      return yield* this.generateUnlocked(prompt, opts);
    } finally {
      release();
    }
  }

  /** Runs generate to the end and returns the whole text with timings. */
  async complete(prompt: string, opts: GenerateOptions = {}): Promise<GenerationResult> {
    const it = this.generate(prompt, opts);
    for (;;) {
      const r = await it.next();
      if (r.done) return r.value;
    }
  }

  /** Logits for every position of `ids` (no cache): [ids.length][vocab]. For evaluation and tests. */
  async forward(ids: readonly number[]): Promise<Float32Array[]> {
    const release = await this.acquire();
    try {
      const out = await this.session.run(this.feeds(ids, 0, this.emptyPast()));
      const V = this.shape.vocabSize;
      const data = logitsData(out.logits);
      return ids.map((_, t) => data.slice(t * V, (t + 1) * V));
    } finally {
      release();
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  private async *generateUnlocked(prompt: string, opts: GenerateOptions): AsyncGenerator<GenerationChunk, GenerationResult> {
    const t0 = performance.now();
    const deadline = opts.timeBudgetMs !== undefined ? t0 + opts.timeBudgetMs : Infinity;
    const ctx = this.shape.contextLength;
    let promptIds = this.encode(prompt);
    if (promptIds.length === 0) promptIds = this.shape.eosTokenIds.slice(0, 1);
    if (promptIds.length === 0) throw new ModelConfigError('empty prompt and no eos_token_id to start from');
    // A constrained answer's budget covers the schema's fixed text (see TokenConstraint.minBudget).
    const requested = Math.max(0, opts.maxNewTokens ?? 64, opts.constraint?.minBudget() ?? 0);
    let maxNew = requested;
    // Keep the end of an over-long prompt: the most recent dialogue matters most.
    if (promptIds.length + maxNew > ctx) {
      const keep = Math.max(1, ctx - maxNew);
      promptIds = promptIds.slice(-keep);
      maxNew = Math.min(maxNew, ctx - promptIds.length);
    }

    const rng = createRng(opts.seed ?? 0);
    const decoder = new IncrementalDecoder(this.tokenizer);
    const stops = new StopStringMatcher(opts.stop ?? []);
    const generated: number[] = [];
    const seen: number[] = [...promptIds];
    let text = '';
    let ttftMs = NaN;
    let stoppedBy: StopReason = 'max_tokens';
    let past = this.emptyPast();
    let input = promptIds;
    let pastLength = 0;

    while (generated.length < maxNew) {
      if (opts.signal?.aborted) {
        stoppedBy = 'abort';
        break;
      }
      if (performance.now() >= deadline) {
        stoppedBy = 'time';
        break;
      }
      const out = await this.session.run(this.feeds(input, pastLength, past));
      pastLength += input.length;
      past = this.presentsAsPast(out);
      const V = this.shape.vocabSize;
      const all = logitsData(out.logits);
      const row = all.slice((input.length - 1) * V, input.length * V);
      opts.constraint?.mask(row, maxNew - generated.length);
      const next = sampleToken(row, opts, seen, rng);
      opts.constraint?.accept(next);
      if (generated.length === 0) ttftMs = performance.now() - t0;
      if (!opts.ignoreEos && this.shape.eosTokenIds.includes(next)) {
        stoppedBy = 'eos';
        break;
      }
      generated.push(next);
      seen.push(next);
      input = [next];
      const piece = stops.push(decoder.push(next));
      if (piece.emit) {
        text += piece.emit;
        yield { token: piece.emit, tokenIds: [next] };
      }
      if (piece.stopped || opts.constraint?.complete) {
        stoppedBy = 'stop';
        break;
      }
      if (pastLength >= ctx && generated.length < maxNew) {
        stoppedBy = 'context';
        break;
      }
    }
    // Out of time (or tokens) mid-answer: a constrained answer is closed, never left broken.
    if (opts.constraint && !opts.constraint.complete && stoppedBy !== 'abort') {
      const closing = decoder.flush() + opts.constraint.finish();
      text += closing;
      yield { token: closing, tokenIds: [] };
    }
    if (stoppedBy !== 'stop') {
      const rest = stops.push(decoder.flush());
      const tail = rest.stopped ? rest.emit : rest.emit + stops.flush();
      if (rest.stopped) stoppedBy = 'stop';
      if (tail) {
        text += tail;
        yield { token: tail, tokenIds: [] };
      }
    }
    if (stoppedBy === 'max_tokens' && maxNew < requested) stoppedBy = 'context';
    const result: GenerationResult = {
      text,
      tokens: generated.length,
      tokenIds: generated,
      promptTokens: promptIds.length,
      ttftMs,
      totalMs: performance.now() - t0,
      stoppedBy,
    };
    this.log.debug({ tokens: result.tokens, totalMs: Math.round(result.totalMs), stoppedBy }, 'generated');
    return result;
  }

  private acquire(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const ready = this.queue.then(() => release);
    this.queue = this.queue.then(() => next);
    return ready;
  }

  private kvType(): 'float32' | 'float16' {
    const meta = this.session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
    return meta && meta.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
  }

  private emptyPast(): Record<string, ort.Tensor> {
    const { numLayers, numKvHeads, headDim } = this.shape;
    const type = this.kvType();
    const past: Record<string, ort.Tensor> = {};
    for (let i = 0; i < numLayers; i++) {
      for (const kind of ['key', 'value']) {
        const data = type === 'float16' ? new Uint16Array(0) : new Float32Array(0);
        past[`past_key_values.${i}.${kind}`] = new ort.Tensor(type, data, [1, numKvHeads, 0, headDim]);
      }
    }
    return past;
  }

  private presentsAsPast(out: ort.InferenceSession.ReturnType): Record<string, ort.Tensor> {
    const past: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.shape.numLayers; i++) {
      past[`past_key_values.${i}.key`] = out[`present.${i}.key`];
      past[`past_key_values.${i}.value`] = out[`present.${i}.value`];
    }
    return past;
  }

  private feeds(ids: readonly number[], pastLength: number, past: Record<string, ort.Tensor>): Record<string, ort.Tensor> {
    const n = ids.length;
    const total = pastLength + n;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
      ...past,
    };
    const names = this.session.inputNames;
    if (names.includes('attention_mask')) {
      feeds.attention_mask = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
    }
    if (names.includes('position_ids')) {
      feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(pastLength + i)), [1, n]);
    }
    if (names.includes('use_cache_branch')) {
      // optimum's merged decoder: one graph with and without cache
      feeds.use_cache_branch = new ort.Tensor('bool', [pastLength > 0], [1]);
    }
    return feeds;
  }
}

function logitsData(t: ort.Tensor | undefined): Float32Array {
  if (!t) throw new ModelConfigError('the ONNX model has no "logits" output');
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, halfToFloat);
  throw new ModelConfigError(`unsupported logits type ${t.type}`);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Loads a Hugging Face-style causal LM folder (config.json, tokenizer.json, onnx/model*.onnx). */
export async function loadCausalLM(dir: string, opts: LoadOptions = {}): Promise<CausalLM> {
  const log = opts.logger ?? defaultLogger;
  const progress = opts.onProgress ?? (() => {});
  const t0 = performance.now();
  const manifest = await readManifest(dir);
  const dtype: ModelDtype = opts.dtype ?? manifest?.defaultDtype ?? 'fp32';
  const onnxFile = opts.file ?? ONNX_FILES[dtype];
  const needed = ['config.json', 'tokenizer.json', 'tokenizer_config.json', onnxFile];

  progress({ stage: 'verify', fraction: 0 });
  if (manifest && opts.verify !== false) {
    await verifyManifestFiles(dir, manifest, needed);
  } else {
    for (const f of needed) {
      if (!(await fileExists(join(dir, f)))) throw new ModelFileError('missing', join(dir, f), expectedSha(manifest, f));
    }
  }
  const shape = await readDecoderShape(dir, expectedSha(manifest, 'config.json'));

  progress({ stage: 'tokenizer', fraction: 0.3, file: 'tokenizer.json' });
  const tokenizer = await loadTokenizer(dir);

  progress({ stage: 'session', fraction: 0.5, file: onnxFile });
  let session: ort.InferenceSession;
  try {
    session = await createSession(join(dir, onnxFile), opts);
  } catch (err) {
    if (err instanceof ModelConfigError) throw err;
    // A file that exists but does not parse: almost always truncated or the wrong file.
    const sha = expectedSha(manifest, onnxFile);
    throw new ModelConfigError(
      `onnxruntime cannot load ${join(dir, onnxFile)}${sha ? ` (expected sha256 ${sha})` : ''}: ${(err as Error).message}`,
    );
  }
  for (const name of ['input_ids', 'past_key_values.0.key']) {
    if (!session.inputNames.includes(name)) {
      throw new ModelConfigError(
        `${join(dir, onnxFile)} has no input "${name}": export it as a decoder with past key/values ` +
          '(optimum-cli export onnx --task text-generation-with-past)',
      );
    }
  }
  progress({ stage: 'ready', fraction: 1 });
  log.info({ dir, dtype, executionProvider: opts.executionProvider ?? 'cpu', ms: Math.round(performance.now() - t0) }, 'model loaded');
  return new CausalLM(dir, dtype, shape, tokenizer, session, manifest, log);
}
