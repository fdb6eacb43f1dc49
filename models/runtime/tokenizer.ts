/**
 * Tokenizer through @huggingface/tokenizers (Hugging Face's own BPE/Unigram/WordPiece
 * implementation in JS, the one transformers.js uses; we never hand-write BPE in TS). Read from
 * the local model folder only: nothing can reach the Hugging Face Hub, which matters on a robot
 * with no network and for reproducible shows.
 *
 * Why not transformers.js' AutoTokenizer: importing @huggingface/transformers took a node from
 * ~80 MB to ~270 MB RSS (its whole library, onnxruntime-web and sharp included) for the tokenizer
 * alone; @huggingface/tokenizers costs ~2 MB. A chat template, when the model has one, is rendered
 * with @huggingface/jinja, as transformers.js does.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Tokenizer as HfTokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';
import { ModelConfigError, ModelFileError } from './errors.ts';

export class Tokenizer {
  constructor(
    private readonly inner: HfTokenizer,
    /** tokenizer_config.json (special tokens, chat template). */
    readonly config: Readonly<Record<string, unknown>>,
  ) {}

  /** The model's chat template (Jinja), when it has one. */
  get chatTemplate(): string | undefined {
    const t = this.config.chat_template;
    return typeof t === 'string' ? t : undefined;
  }

  encode(text: string): number[] {
    return this.inner.encode(text, { add_special_tokens: false }).ids;
  }

  decode(ids: readonly number[]): string {
    return this.inner.decode(ids as number[], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }

  /** Chat messages through the model's own template, ending where the assistant speaks. */
  applyChatTemplate(messages: readonly { role: string; content: string }[]): string {
    const tpl = this.chatTemplate;
    if (!tpl) throw new Error('this model has no chat template');
    const special = (k: string) => { const v = this.config[k]; return typeof v === 'string' ? v : (v as { content?: string } | undefined)?.content; };
    return new Template(tpl).render({ messages: messages as { role: string; content: string }[], add_generation_prompt: true, bos_token: special('bos_token') ?? '', eos_token: special('eos_token') ?? '' });
  }
}

export async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  const dir = resolve(modelDir);
  const read = async (f: string, required: boolean): Promise<Record<string, unknown>> => {
    try {
      return JSON.parse(await readFile(join(dir, f), 'utf8')) as Record<string, unknown>;
    } catch (e) {
      if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ModelFileError('missing', join(dir, f));
      throw new ModelConfigError(`${join(dir, f)}: ${(e as Error).message}`);
    }
  };
  const [json, config] = await Promise.all([read('tokenizer.json', true), read('tokenizer_config.json', false)]);
  return new Tokenizer(new HfTokenizer(json, config), config);
}

export function encode(tokenizer: Tokenizer, text: string): number[] {
  return tokenizer.encode(text);
}

export function decode(tokenizer: Tokenizer, ids: readonly number[]): string {
  return tokenizer.decode(ids);
}

/**
 * Turns a stream of token ids into a stream of text. Byte-level BPE can split one UTF-8
 * character across tokens (common for Japanese), so ids are held until they decode without
 * a replacement character; decoding only the held ids keeps this linear in output length.
 */
export class IncrementalDecoder {
  private held: number[] = [];
  constructor(private readonly tokenizer: Tokenizer, private readonly maxHeld = 8) {}

  push(id: number): string {
    this.held.push(id);
    const text = decode(this.tokenizer, this.held);
    if (text.endsWith('\uFFFD') && this.held.length < this.maxHeld) return '';
    this.held = [];
    return text;
  }

  flush(): string {
    if (this.held.length === 0) return '';
    const text = decode(this.tokenizer, this.held);
    this.held = [];
    return text;
  }
}
