/**
 * Last pipeline step: measure validation loss of the exported ONNX files (fp32 and int8) with
 * the project's own runtime, and write manifest.json (sha256 of every file, sizes, training data
 * and licence). Usage: node bin/run-ts.js models/pipeline/finalize.ts WORK_DIR MODEL_DIR NAME
 */
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { heldOutLoss, loadCausalLM, sha256File, type ModelManifest } from '../runtime/index.ts';

const [workDir, modelDir, name] = process.argv.slice(2);
if (!workDir || !modelDir || !name) throw new Error('usage: finalize.ts WORK_DIR MODEL_DIR NAME');

interface TrainMeta {
  steps: number; batch_size: number; lr: number; seed: number; train_seconds: number; train_tokens: number; params: number;
  splits: { corpus: string; path: string; chars_total: number; train_chars: number; validation_from_char: number }[];
  validation: Record<string, { tokens: number; chars: number }>;
  config: { vocab_size: number; n_positions: number; n_embd: number; n_layer: number; n_head: number };
}
const meta = JSON.parse(await readFile(join(workDir, 'train_meta.json'), 'utf8')) as TrainMeta;

async function valIds(corpus: string): Promise<number[]> {
  const buf = await readFile(join(workDir, 'data', `val_${corpus}.bin`));
  return Array.from(new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2));
}

type Losses = Record<string, { loss: number; tokens: number; bitsPerChar: number }> & { all?: never };
async function losses(dtype: 'fp32' | 'int8'): Promise<{ byCorpus: Losses; loss: number }> {
  const model = await loadCausalLM(modelDir, { dtype, verify: false, threads: 1 });
  const byCorpus = {} as Losses;
  let nll = 0;
  let n = 0;
  for (const corpus of Object.keys(meta.validation)) {
    const r = await heldOutLoss(model, await valIds(corpus));
    const bitsPerChar = (r.loss * r.tokens) / Math.LN2 / meta.validation[corpus].chars;
    byCorpus[corpus] = { loss: round(r.loss), tokens: r.tokens, bitsPerChar: round(bitsPerChar) };
    nll += r.loss * r.tokens;
    n += r.tokens;
  }
  await model.dispose();
  return { byCorpus, loss: round(nll / n) };
}
const round = (x: number) => Math.round(x * 1e5) / 1e5;

const fp32 = await losses('fp32');
const int8 = await losses('int8');
const torchLoss = JSON.parse(
  execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'evaluate_torch.py'), workDir], { env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } }).toString(),
) as Record<string, { loss: number; tokens: number }>;

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.name !== 'manifest.json') out.push(p);
  }
  return out.sort();
}
const files = [];
for (const f of await listFiles(modelDir)) {
  files.push({ path: relative(modelDir, f).split('\\').join('/'), sha256: await sha256File(f), bytes: (await stat(f)).size });
}

const manifest: ModelManifest & Record<string, unknown> = {
  name,
  description:
    'Bilingual (Japanese/English) GPT-2-style decoder trained from scratch by Kuroko on public-domain play dialogue. ' +
    'One speech per line: `NAME: text` (English) or `名前　台詞` (Japanese). A fallback voice for ad-libs, not a good writer.',
  architecture: 'gpt2 (pre-LayerNorm, learned positions, tied embeddings, GELU tanh)',
  parameters: meta.params,
  vocabSize: meta.config.vocab_size,
  contextLength: meta.config.n_positions,
  defaultDtype: 'int8',
  config: meta.config,
  tokenizer: 'byte-level BPE (GPT-2 pre-tokenizer), trained on the training split by models/pipeline/bpe.py; <|endoftext|> separates documents',
  training: {
    steps: meta.steps, batchSize: meta.batch_size, contextLength: meta.config.n_positions, learningRate: meta.lr, seed: meta.seed,
    seconds: meta.train_seconds, trainTokens: meta.train_tokens, hardware: '1 CPU core (torch 1.13, OpenBLAS, 1 thread)',
    command: 'models/pipeline/run.sh ../shared/data/ja_plays.txt ../shared/data/tinyshakespeare.txt',
  },
  data: meta.splits.map((s) => ({
    corpus: s.corpus,
    file: s.path.split('/').pop(),
    characters: s.chars_total,
    validationFromChar: s.validation_from_char,
    validation: `last ${(100 * (1 - s.validation_from_char / s.chars_total)).toFixed(1)} % (characters ${s.validation_from_char}..${s.chars_total}, cut at a line/speech boundary)`,
    source:
      s.corpus === 'ja_plays'
        ? '64 Japanese plays from Aozora Bunko (https://www.aozora.gr.jp/) via github.com/aozorahack/aozorabunko_text @0984f7dc18a2270bdfd2ff99bf14fd1b3ebb4f65; every work with author, death year, first publication and Aozora card in DATA_SOURCES.md (copied from ja_plays.SOURCES.md)'
        : 'tiny shakespeare, github.com/karpathy/char-rnn data/tinyshakespeare/input.txt (see DATA_SOURCES.md)',
    licence:
      s.corpus === 'ja_plays'
        ? 'public domain (all authors and translators died in or before 1954; Kishida/Kikuchi works limited to first publication ≤1930 for US public domain)'
        : "public domain (Shakespeare's plays)",
  })),
  licence: 'Model weights: Apache-2.0 (the project licence). Training data: public domain.',
  validation: {
    metric: 'mean next-token cross-entropy, nats, non-overlapping windows of the context length, on the held-out tails',
    fp32: { loss: fp32.loss, byCorpus: fp32.byCorpus, runtime: 'onnxruntime-node, onnx/model.onnx' },
    int8: { loss: int8.loss, byCorpus: int8.byCorpus, runtime: 'onnxruntime-node, onnx/model_int8.onnx' },
    torchFp32: torchLoss,
    int8MinusFp32: round(int8.loss - fp32.loss),
  },
  files,
};
await writeFile(join(modelDir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
console.log(JSON.stringify({ fp32: fp32.loss, int8: int8.loss, torch: torchLoss, files: files.map((f) => `${f.path} ${f.bytes}`) }, null, 1));
