/**
 * Token-masked decoding on a llama.cpp sequence (node-llama-cpp 3.21.1, public API only), for
 * byte-level vocabularies: the same JSON-schema mask as our ONNX runtime
 * (models/runtime/json-constraint.ts), plus jump-forward decoding. Where the schema forces the
 * next bytes (`{"speaker":"Kenzaki","line":"`, `","emotion":"`, the rest of an enum value once its
 * first letters tell it apart) nothing is sampled: the forced tokens are handed to llama.cpp as
 * one batch with the last sampled token (`evaluate()`'s iterator takes the next tokens to
 * evaluate), as a prompt is. On kuroko-tiny's 4096-token vocabulary that text is ~57 of a turn's
 * ~96 tokens, so a slow model spends most of a turn writing JSON punctuation one token at a time.
 *
 * Public API instead of LlamaCompletion: the mask is a fresh TokenBias per step (set() with token
 * ids does not tokenize). A TokenBias cannot forbid end-of-generation tokens, so when one is
 * sampled another is drawn from the sampler's own probabilities (they come with each token)
 * without it: the same as masking it. For that the probabilities must cover every allowed token,
 * so top-p defaults to 1 here (it cut the allowed tail at 0.95 before: a small change, under a
 * mask that leaves few tokens anyway).
 */
import type { LlamaContextSequence, LlamaModel, Token, TokenBias } from 'node-llama-cpp';
import type { JsonConstraint } from '../../models/runtime/json-constraint.ts';
import { createRng } from '../../models/runtime/sampler.ts';

/** Paces decoding to a set rate (a slow hub model, rehearsed); `steps` may be fractional. */
export class Pacer {
  private t0 = Date.now();
  private steps = 0;
  constructor(private readonly tokensPerSecond?: number) {}
  /** Starts the clock (a request may wait for the one before it). */
  start(): void { this.t0 = Date.now(); this.steps = 0; }
  async step(n = 1): Promise<void> {
    if (!this.tokensPerSecond) return;
    this.steps += n;
    const due = this.t0 + (this.steps / this.tokensPerSecond) * 1000 - Date.now();
    if (due > 0) await new Promise((r) => setTimeout(r, due));
  }
}

/**
 * What one forced token costs the pacer, in steps: a forced run is evaluated as a batch, and
 * llama.cpp evaluates a batch several times faster per token than it generates (prompt
 * processing against generation: more on a GPU, less for very short runs). A quarter step is
 * the conservative figure used for a CPU.
 */
export const FORCED_TOKEN_STEPS = 0.25;

export interface MaskedRequest {
  sequence: LlamaContextSequence;
  model: LlamaModel;
  TokenBias: typeof TokenBias;
  input: Token[];
  constraint: JsonConstraint;
  tokenBytes: readonly (Uint8Array | null)[];
  maxTokens: number;
  temperature: number;
  topP?: number;
  seed?: number;
  signal: AbortSignal;
  pacer: Pacer;
  emit(text: string): void;
  /** Jump-forward decoding of forced text (default true). */
  jumpForward?: boolean;
}

/** Decodes one constrained answer; returns the number of tokens written (forced ones included). */
export async function maskedGenerate(r: MaskedRequest): Promise<{ tokens: number; stop: 'complete' | 'length' | 'abort' | 'off-mask' }> {
  const { sequence, model, constraint, tokenBytes } = r;
  const vocabSize = tokenBytes.length;
  const utf8 = new TextDecoder();
  const jump = r.jumpForward !== false;
  const rng = createRng((r.seed ?? 0x5eed) >>> 0);
  let tokens = 0;
  const written: Token[] = [];
  const emitTokens = (ids: readonly number[]) => {
    let text = '';
    for (const id of ids) text += utf8.decode(tokenBytes[id]!, { stream: true });
    if (text) r.emit(text);
  };
  const takeForced = (): Token[] => {
    if (!jump) return [];
    const forced = constraint.forcedTokens(64, vocabSize) as Token[];
    for (const id of forced) constraint.accept(id);
    tokens += forced.length;
    written.push(...forced);
    return forced;
  };

  // The prompt, trimmed from its start to leave the answer its whole budget in the context.
  const room = Math.max(1, sequence.context.contextSize - r.maxTokens - 1);
  const input = r.input.slice(-room);
  // Text the schema forces before the model has said anything goes in with the prompt.
  const head = takeForced();
  if (head.length) { await r.pacer.step(head.length * FORCED_TOKEN_STEPS); emitTokens(head); }
  const all = [...input, ...head];
  // Reuse what the last request left in the KV cache (llama.cpp keeps the longest common prefix).
  const last = all.pop()!;
  await sequence.adaptStateToTokens(all, false);
  all.push(last);
  const evalTokens = all.slice(sequence.nextTokenIndex);

  const bias = () => {
    const allowed = constraint.allowed(r.maxTokens - tokens, vocabSize);
    const never: Token[] = [];
    for (let id = 0; id < vocabSize; id++) if (!allowed[id]) never.push(id as Token);
    const b = new r.TokenBias(model.tokenizer);
    return never.length ? b.set(never, 'never') : b;
  };
  const gen = sequence.evaluateWithMetadata(evalTokens, { probabilities: true }, {
    temperature: r.temperature,
    // The mask must see the whole vocabulary: a top-k cut first could leave only end-of-text.
    topK: 0,
    topP: r.topP ?? 1,
    ...(r.seed !== undefined ? { seed: r.seed } : {}),
    tokenBias: bias,
    // As LlamaCompletion does by default: the last 64 tokens are punished for repeating.
    repeatPenalty: { punishTokens: () => written.slice(-64), maxPunishTokens: 64 },
    yieldEogToken: true,
  });
  let stop: 'complete' | 'length' | 'abort' | 'off-mask' = 'length';
  try {
    if (constraint.complete) return { tokens, stop: 'complete' };
    let step = await gen.next();
    while (!step.done) {
      if (r.signal.aborted) { stop = 'abort'; break; }
      let token = step.value.token;
      if (model.isEogToken(token)) {
        // The model would end here: draw again among the tokens the mask allows.
        const redrawn = redraw(step.value.probabilities, constraint.allowed(r.maxTokens - tokens, vocabSize), r.temperature, rng);
        if (redrawn === undefined) { stop = 'off-mask'; break; }
        token = redrawn;
      }
      // Rarely a token misses the newest mask: stop there and let the caller close the object.
      if (!constraint.tryAccept(token)) { stop = 'off-mask'; break; }
      tokens++;
      written.push(token);
      await r.pacer.step(1);
      emitTokens([token]);
      if (constraint.complete) { stop = 'complete'; break; }
      const forced = takeForced();
      if (forced.length) { await r.pacer.step(forced.length * FORCED_TOKEN_STEPS); emitTokens(forced); }
      if (constraint.complete) { stop = 'complete'; break; }
      if (tokens >= r.maxTokens) break;
      if (r.signal.aborted) { stop = 'abort'; break; }
      step = await gen.next(forced.length ? [token, ...forced] : token);
    }
  } finally {
    await gen.return(undefined);
  }
  return { tokens, stop };
}

/** A token drawn from `probabilities` without the ones not allowed (the likeliest at temperature 0). */
function redraw(probabilities: ReadonlyMap<Token, number>, allowed: Uint8Array, temperature: number, rng: () => number): Token | undefined {
  const options = [...probabilities].filter(([id, p]) => id < allowed.length && allowed[id] && p > 0);
  if (!options.length) return undefined;
  if (temperature <= 0) return options.reduce((a, b) => (b[1] > a[1] ? b : a))[0];
  let x = rng() * options.reduce((a, [, p]) => a + p, 0);
  for (const [id, p] of options) if ((x -= p) <= 0) return id;
  return options.at(-1)![0];
}
