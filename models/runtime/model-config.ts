/**
 * Reads the few facts the generation loop needs from a Hugging Face config.json, across the
 * field names of GPT-2 (n_layer, n_head, n_embd, n_positions) and Llama/Qwen2/Gemma
 * (num_hidden_layers, num_key_value_heads, head_dim, max_position_embeddings).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelConfigError, ModelFileError } from './errors.ts';
import { fileExists } from './manifest.ts';

export interface DecoderShape {
  modelType: string;
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  /** Maximum positions (prompt + output); learned-position models cannot go past it. */
  contextLength: number;
  eosTokenIds: number[];
}

type Json = Record<string, unknown>;
const num = (c: Json, ...keys: string[]): number | undefined => {
  for (const k of keys) if (typeof c[k] === 'number') return c[k] as number;
  return undefined;
};

export async function readDecoderShape(dir: string, expectedSha?: string): Promise<DecoderShape> {
  const path = join(dir, 'config.json');
  if (!(await fileExists(path))) throw new ModelFileError('missing', path, expectedSha);
  let raw: Json;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Json;
  } catch (err) {
    throw new ModelConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  // Multimodal/Gemma-3 style configs nest the language model under text_config.
  const c = (raw.text_config as Json | undefined) ?? raw;
  const numLayers = num(c, 'n_layer', 'num_hidden_layers', 'num_layers');
  const numHeads = num(c, 'n_head', 'num_attention_heads');
  const hidden = num(c, 'n_embd', 'hidden_size', 'd_model');
  const numKvHeads = num(c, 'num_key_value_heads', 'multi_query_group_num') ?? numHeads;
  const headDim = num(c, 'head_dim') ?? (hidden && numHeads ? hidden / numHeads : undefined);
  const vocabSize = num(c, 'vocab_size');
  const contextLength = num(c, 'n_positions', 'max_position_embeddings', 'n_ctx') ?? 2048;
  if (!numLayers || !numKvHeads || !headDim || !vocabSize) {
    throw new ModelConfigError(`${path}: cannot find layer/head/vocab sizes (model_type ${String(c.model_type)})`);
  }
  const eos = raw.eos_token_id ?? c.eos_token_id;
  const eosTokenIds = Array.isArray(eos) ? (eos as number[]) : typeof eos === 'number' ? [eos] : [];
  return { modelType: String(c.model_type ?? 'unknown'), numLayers, numKvHeads, headDim, vocabSize, contextLength, eosTokenIds };
}
