/**
 * Exports a model of this project's pipeline (GPT-2 architecture: pre-LayerNorm, learned
 * positions, tied embeddings, GELU tanh) from its fp32 ONNX file to GGUF, the format llama.cpp
 * loads, as llama.cpp's `gpt2` architecture with the byte-level BPE tokenizer (vocabulary,
 * merges, GPT-2 pre-tokenizer). Weights are read from onnx/model.onnx (the repo ships no
 * training checkpoint); the exporter's constant folding renamed the Linear weights, so those
 * are matched by graph order: per block c_attn, attn_proj, c_fc, mlp_proj, then the tied
 * [C, V] output matrix.
 *
 *   node bin/run-ts.js models/gguf/export-gguf.ts models/kuroko-tiny [--type f32|f16]
 *
 * writes models/kuroko-tiny/gguf/<name>-<type>.gguf and lists it in manifest.json.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readOnnxGraph, type OnnxTensor } from './onnx-weights.ts';
import { GGML_TYPE, writeGguf, type GgmlType, type GgufTensor, type MetaValue } from './gguf-writer.ts';

export interface ExportOptions {
  type?: 'f32' | 'f16';
  /** Output file (default <dir>/gguf/<name>-<type>.gguf). */
  out?: string;
  /** Record the file in the model's manifest.json (default true). */
  manifest?: boolean;
}

interface HfConfig { vocab_size: number; n_positions: number; n_embd: number; n_layer: number; n_head: number; n_inner?: number; layer_norm_epsilon?: number; bos_token_id?: number; eos_token_id?: number }
interface HfTokenizer {
  added_tokens: { id: number; content: string; special: boolean }[];
  model: { type: string; vocab: Record<string, number>; merges: (string | [string, string])[] };
  pre_tokenizer?: { type: string };
}

export function exportGguf(modelDir: string, opts: ExportOptions = {}): { file: string; bytes: number; tensors: number } {
  const dir = resolve(modelDir);
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as HfConfig;
  const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as HfTokenizer;
  const manifestPath = join(dir, 'manifest.json');
  const manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { name?: string; description?: string; files?: { path: string; sha256: string; bytes: number }[] }) : {};
  const name = manifest.name ?? basename(dir);
  const type = opts.type ?? 'f32';
  const ggmlType: GgmlType = type === 'f16' ? GGML_TYPE.F16 : GGML_TYPE.F32;
  if (tok.model.type !== 'BPE' || tok.pre_tokenizer?.type !== 'ByteLevel') throw new Error(`${dir}/tokenizer.json: only a byte-level BPE tokenizer (GPT-2 style) can be exported, found ${tok.model.type}/${tok.pre_tokenizer?.type}`);

  const g = readOnnxGraph(join(dir, 'onnx', 'model.onnx'));
  const init = (n: string): OnnxTensor => {
    const t = g.initializers.get(n);
    if (!t || !t.data.length) throw new Error(`${dir}/onnx/model.onnx: no fp32 initializer ${n}`);
    return t;
  };
  const C = cfg.n_embd;
  const V = cfg.vocab_size;
  const F = cfg.n_inner ?? 4 * C;
  const matmuls = g.nodes.filter((n) => n.opType === 'MatMul' && g.initializers.get(n.inputs[1]!)?.data.length).map((n) => init(n.inputs[1]!));
  if (matmuls.length !== 4 * cfg.n_layer + 1) throw new Error(`${dir}/onnx/model.onnx: expected ${4 * cfg.n_layer + 1} weight MatMuls, found ${matmuls.length}`);
  const tied = matmuls.at(-1)!; // [C, V]

  // ONNX MatMul weights are [in, out] row-major; ggml wants torch's [out, in] bytes, i.e. ne = [in, out].
  const linear = (t: OnnxTensor, inDim: number, outDim: number): Float32Array => {
    if (t.dims[0] !== inDim || t.dims[1] !== outDim) throw new Error(`weight ${t.name}: dims ${t.dims.join('x')}, expected ${inDim}x${outDim}`);
    return transpose(t.data, inDim, outDim);
  };
  const tensors: GgufTensor[] = [];
  const add = (tname: string, dims: number[], data: Float32Array, forceF32 = false) =>
    // Norms and biases stay f32 (llama.cpp's own converters do the same: they are 1-D and tiny).
    tensors.push({ name: tname, dims, data, type: forceF32 || dims.length === 1 ? GGML_TYPE.F32 : ggmlType });
  const wte = linear(tied, C, V); // [V, C] = token embedding rows
  add('token_embd.weight', [C, V], wte);
  add('position_embd.weight', [C, cfg.n_positions], init('model.wpe.weight').data);
  for (let i = 0; i < cfg.n_layer; i++) {
    const p = `model.blocks.${i}.`;
    const [attn, proj, fc, mlp] = matmuls.slice(i * 4, i * 4 + 4) as [OnnxTensor, OnnxTensor, OnnxTensor, OnnxTensor];
    add(`blk.${i}.attn_norm.weight`, [C], init(`${p}ln_1.weight`).data);
    add(`blk.${i}.attn_norm.bias`, [C], init(`${p}ln_1.bias`).data);
    add(`blk.${i}.attn_qkv.weight`, [C, 3 * C], linear(attn, C, 3 * C));
    add(`blk.${i}.attn_qkv.bias`, [3 * C], init(`${p}c_attn.bias`).data);
    add(`blk.${i}.attn_output.weight`, [C, C], linear(proj, C, C));
    add(`blk.${i}.attn_output.bias`, [C], init(`${p}attn_proj.bias`).data);
    add(`blk.${i}.ffn_norm.weight`, [C], init(`${p}ln_2.weight`).data);
    add(`blk.${i}.ffn_norm.bias`, [C], init(`${p}ln_2.bias`).data);
    add(`blk.${i}.ffn_up.weight`, [C, F], linear(fc, C, F));
    add(`blk.${i}.ffn_up.bias`, [F], init(`${p}c_fc.bias`).data);
    add(`blk.${i}.ffn_down.weight`, [F, C], linear(mlp, F, C));
    add(`blk.${i}.ffn_down.bias`, [C], init(`${p}mlp_proj.bias`).data);
  }
  add('output_norm.weight', [C], init('model.ln_f.weight').data);
  add('output_norm.bias', [C], init('model.ln_f.bias').data);
  // Tied: the output matrix is the token embedding. Written out (llama.cpp's gpt2 loader expects it).
  add('output.weight', [C, V], wte);

  // Vocabulary in id order, as the byte-level strings of tokenizer.json; special tokens are "control" (3).
  const tokens: string[] = new Array<string>(V).fill('');
  const types: number[] = new Array<number>(V).fill(1);
  for (const [s, id] of Object.entries(tok.model.vocab)) if (id < V) tokens[id] = s;
  for (const a of tok.added_tokens) if (a.id < V) { tokens[a.id] = a.content; if (a.special) types[a.id] = 3; }
  const missing = tokens.findIndex((t) => t === '');
  if (missing >= 0) throw new Error(`${dir}/tokenizer.json: no token for id ${missing}`);
  const merges = tok.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  const eos = cfg.eos_token_id ?? V - 1;
  const meta = new Map<string, MetaValue>([
    ['general.architecture', { type: 'string', value: 'gpt2' }],
    ['general.name', { type: 'string', value: name }],
    ['general.description', { type: 'string', value: manifest.description ?? name }],
    ['general.license', { type: 'string', value: 'Apache-2.0' }],
    ['general.file_type', { type: 'u32', value: type === 'f16' ? 1 : 0 }],
    ['general.alignment', { type: 'u32', value: 32 }],
    ['gpt2.context_length', { type: 'u32', value: cfg.n_positions }],
    ['gpt2.embedding_length', { type: 'u32', value: C }],
    ['gpt2.feed_forward_length', { type: 'u32', value: F }],
    ['gpt2.block_count', { type: 'u32', value: cfg.n_layer }],
    ['gpt2.attention.head_count', { type: 'u32', value: cfg.n_head }],
    ['gpt2.attention.layer_norm_epsilon', { type: 'f32', value: cfg.layer_norm_epsilon ?? 1e-5 }],
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: 'gpt-2' }],
    ['tokenizer.ggml.tokens', { type: 'string[]', value: tokens }],
    ['tokenizer.ggml.token_type', { type: 'i32[]', value: types }],
    ['tokenizer.ggml.merges', { type: 'string[]', value: merges }],
    ['tokenizer.ggml.bos_token_id', { type: 'u32', value: cfg.bos_token_id ?? eos }],
    ['tokenizer.ggml.eos_token_id', { type: 'u32', value: eos }],
    // The play model was trained without a BOS in front of each speech.
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ]);
  const file = opts.out ?? join(dir, 'gguf', `${name}-${type}.gguf`);
  mkdirSync(join(file, '..'), { recursive: true });
  const bytes = writeGguf(file, meta, tensors);
  if (opts.manifest !== false && manifest.files) {
    const rel = file.startsWith(dir + '/') ? file.slice(dir.length + 1) : undefined;
    if (rel) {
      const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      manifest.files = [...manifest.files.filter((f) => f.path !== rel), { path: rel, sha256, bytes }].sort((a, b) => a.path.localeCompare(b.path));
      writeFileSync(manifestPath, JSON.stringify(manifest, null, 1));
    }
  }
  return { file, bytes, tensors: tensors.length };
}

function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const args = process.argv.slice(2);
  const dir = args.find((a) => !a.startsWith('--'));
  const typeArg = args.includes('--type') ? args[args.indexOf('--type') + 1] : 'f32';
  if (!dir || (typeArg !== 'f32' && typeArg !== 'f16')) {
    console.error('usage: export-gguf.ts MODEL_DIR [--type f32|f16]');
    process.exit(2);
  }
  const r = exportGguf(dir, { type: typeArg });
  console.log(`wrote ${r.file}: ${r.tensors} tensors, ${(r.bytes / 1e6).toFixed(2)} MB`);
}
