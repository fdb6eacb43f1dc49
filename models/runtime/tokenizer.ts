/**
 * Tokenizer loading through @huggingface/transformers (a well-kept BPE/Unigram/WordPiece
 * implementation; we never hand-write BPE in TS). Loaded from the local folder only: the
 * library's env is set so it can never reach the Hugging Face Hub, which matters on a robot
 * with no network and for reproducible shows.
 */
import { basename, dirname, resolve } from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';

export type Tokenizer = PreTrainedTokenizer;

export async function loadTokenizer(modelDir: string): Promise<Tokenizer> {
  const abs = resolve(modelDir);
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(abs) + '/';
  env.useFSCache = false; // nothing to cache: files are already local
  return AutoTokenizer.from_pretrained(basename(abs), { local_files_only: true });
}

export function encode(tokenizer: Tokenizer, text: string): number[] {
  return tokenizer.encode(text, { add_special_tokens: false });
}

export function decode(tokenizer: Tokenizer, ids: readonly number[]): string {
  return tokenizer.decode(ids as number[], { skip_special_tokens: true, clean_up_tokenization_spaces: false });
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
