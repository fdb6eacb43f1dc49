/**
 * npm run bench:model — speed and quality of the shipped node model on this machine.
 *  - time to first token and tokens/s over 200 new tokens: onnxruntime-node fp32 and int8
 *    (the project's runtime) and PyTorch eager with a KV cache (same weights, child process);
 *  - peak memory of each (each runs in its own process so the figures do not mix);
 *  - int8 vs fp32 perplexity on held-out text (the last 5 % of each training corpus).
 * Goals: int8 ORT >= 2x torch eager tokens/s; int8 perplexity within 5 % of fp32.
 *  - the node's memory: RSS with the int8 model and tokenizer loaded (goal <= 150 MB).
 * Held-out text: the model folder's heldout.json.gz (shipped), else KUROKO_DATA_DIR / ../shared/data.
 * The PyTorch comparison needs Debian's python3-torch python3-onnx python3-numpy (it says so when missing).
 * Env: BENCH_MODEL_DIR, BENCH_THREADS (default 1), BENCH_RUNS (3), KUROKO_DATA_DIR.
 * Not a unit test: numbers depend on the machine and its load.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { DEFAULT_NODE_MODEL_DIR, heldOutLoss, loadCausalLM, readManifest, type ModelDtype } from '../runtime/index.ts';

const modelDir = resolve(process.env.BENCH_MODEL_DIR ?? DEFAULT_NODE_MODEL_DIR);
const threads = Number(process.env.BENCH_THREADS ?? 1);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const NEW_TOKENS = 200;
const PROMPT = 'GLOUCESTER: Now is the winter of our discontent\n';
const quiet = pino({ level: 'silent' });
const self = fileURLToPath(import.meta.url);

interface RunStats { ttft_ms: number; total_ms: number; tokens: number }
interface WorkerResult { runtime: string; runs: RunStats[]; peak_rss_mb: number }

async function ortWorker(dtype: ModelDtype): Promise<WorkerResult> {
  const model = await loadCausalLM(modelDir, { dtype, threads, logger: quiet });
  const opts = { maxNewTokens: NEW_TOKENS, temperature: 0.8, topK: 40, ignoreEos: true };
  await model.complete(PROMPT, { ...opts, maxNewTokens: 8, seed: 0 }); // warm-up
  const out: RunStats[] = [];
  for (let r = 0; r < runs; r++) {
    const g = await model.complete(PROMPT, { ...opts, seed: 1 + r });
    out.push({ ttft_ms: g.ttftMs, total_ms: g.totalMs, tokens: g.tokens });
  }
  return { runtime: `onnxruntime-node ${dtype}`, runs: out, peak_rss_mb: process.resourceUsage().maxRSS / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function summarize(r: WorkerResult) {
  return {
    runtime: r.runtime,
    ttftMs: median(r.runs.map((x) => x.ttft_ms)),
    tokensPerS: median(r.runs.map((x) => (x.tokens / x.total_ms) * 1000)),
    tokens: r.runs[0].tokens,
    peakRssMb: r.peak_rss_mb,
  };
}

/**
 * The validation texts exactly as the pipeline held them out (models/pipeline/prepare_data.py:
 * same split, same one-speech-per-line format), so these perplexities match the manifest's losses.
 */
async function heldOutText(): Promise<{ corpus: string; text: string }[]> {
  // Shipped beside the model by the pipeline (models/pipeline/run.sh), so a fresh clone has it.
  const shipped = join(modelDir, 'heldout.json.gz');
  if (existsSync(shipped)) {
    const val = JSON.parse(gunzipSync(readFileSync(shipped)).toString('utf8')) as Record<string, string>;
    return Object.entries(val).map(([corpus, text]) => ({ corpus, text }));
  }
  const manifest = await readManifest(modelDir);
  const files = ((manifest as unknown as { data?: { corpus: string; file: string }[] })?.data ?? []).map((d) => d.file);
  // Else the training data beside the checkout (../shared/data), or one level further up from a git worktree.
  const root = resolve(import.meta.dirname, '../..');
  const candidates = [process.env.KUROKO_DATA_DIR, join(root, '../shared/data'), join(root, '../../shared/data')];
  const dataDir = candidates.find((d): d is string => !!d && existsSync(d));
  const ja = files.find((f) => f.startsWith('ja_plays'));
  const en = files.find((f) => f.startsWith('tinyshakespeare'));
  if (!dataDir || !ja || !en || !existsSync(join(dataDir, ja)) || !existsSync(join(dataDir, en))) return [];
  const script = [
    'import sys, json',
    `sys.path.insert(0, ${JSON.stringify(join(root, 'models/pipeline'))})`,
    'from prepare_data import prepare',
    '_, val, _ = prepare(sys.argv[1], sys.argv[2])',
    'print(json.dumps(val, ensure_ascii=False))',
  ].join('\n');
  const val = JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', script, join(dataDir, ja), join(dataDir, en)], { maxBuffer: 1 << 28 }).toString(),
  ) as Record<string, string>;
  return Object.entries(val).map(([corpus, text]) => ({ corpus, text }));
}

/**
 * The node's case: the int8 model and its tokenizer loaded, a few ad-libs generated, in a process
 * started as the edge node is (deploy/systemd, the demo: --max-semi-space-size=1).
 */
async function rssWorker(): Promise<{ loadedMb: number; afterMb: number; peakMb: number }> {
  const model = await loadCausalLM(modelDir, { dtype: 'int8', threads: 1, logger: quiet });
  const loadedMb = process.memoryUsage().rss / 2 ** 20;
  for (let i = 0; i < 5; i++) await model.complete('ROMEO: I will go to the town tonight.\nJULIET:', { maxNewTokens: 48, seed: i, stop: ['\n'] });
  return { loadedMb, afterMb: process.memoryUsage().rss / 2 ** 20, peakMb: process.resourceUsage().maxRSS / 1024 };
}

const TORCH_DEBIAN = 'python3-torch python3-onnx python3-numpy';

async function main(): Promise<void> {
  if (process.argv[2] === '--rss') {
    process.stdout.write(JSON.stringify(await rssWorker()));
    return;
  }
  if (process.argv[2] === '--worker') {
    process.stdout.write(JSON.stringify(await ortWorker(process.argv[3] as ModelDtype)));
    return;
  }
  const tokenizerModel = await loadCausalLM(modelDir, { dtype: 'fp32', threads, logger: quiet });
  const promptIds = tokenizerModel.encode(PROMPT);
  console.log(`model ${modelDir}\nprompt ${promptIds.length} tokens, ${NEW_TOKENS} new tokens, ${runs} runs (median), ${threads} thread(s); ${new Date().toISOString()}`);

  const spawnNode = (dtype: string) =>
    JSON.parse(execFileSync(process.execPath, [join(import.meta.dirname, '../../bin/run-ts.js'), self, '--worker', dtype], { env: process.env }).toString()) as WorkerResult;
  const results = [spawnNode('fp32'), spawnNode('int8')];
  const torchEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads), OMP_WAIT_POLICY: 'PASSIVE' };
  try {
    results.push(
      JSON.parse(
        execFileSync('/usr/bin/python3', [join(import.meta.dirname, 'torch_generate.py'), modelDir, JSON.stringify({ prompt_ids: promptIds, new_tokens: NEW_TOKENS, runs, seed: 1 })], { env: torchEnv }).toString(),
      ) as WorkerResult,
    );
  } catch (err) {
    const missing = /No module named|ModuleNotFoundError|ENOENT/.test(String((err as { stderr?: Buffer }).stderr ?? '') + (err as Error).message);
    console.log(`torch eager: could not run (${(err as Error).message.split('\n')[0]})` +
      (missing ? `\n  The PyTorch comparison needs Debian's PyTorch: apt-get install ${TORCH_DEBIAN} (run as root; /usr/bin/python3 is used)` : ''));
  }
  const rows = results.map(summarize);
  console.log('\n| runtime | TTFT ms | tokens/s | tokens | peak RSS MB |\n|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.runtime} | ${r.ttftMs.toFixed(2)} | ${r.tokensPerS.toFixed(0)} | ${r.tokens} | ${r.peakRssMb.toFixed(0)} |`);

  // The node's memory: int8 model + tokenizer, started as a node is.
  const rss = JSON.parse(execFileSync(process.execPath, ['--max-semi-space-size=1', join(import.meta.dirname, '../../bin/run-ts.js'), self, '--rss'], { env: process.env }).toString()) as { loadedMb: number; afterMb: number; peakMb: number };
  console.log(`\nnode model memory (int8 + tokenizer, 5 ad-libs, --max-semi-space-size=1): RSS ${rss.loadedMb.toFixed(0)} MiB loaded, ${rss.afterMb.toFixed(0)} MiB after, peak ${rss.peakMb.toFixed(0)} MiB (goal <= 150 MB) -> ${rss.peakMb * 1.048576 <= 150 ? 'PASS' : 'FAIL'}`);

  // Perplexity on held-out text, fp32 vs int8, same tokens.
  const texts = await heldOutText();
  const int8Model = await loadCausalLM(modelDir, { dtype: 'int8', threads, logger: quiet });
  const ppl: { corpus: string; fp32: number; int8: number; tokens: number }[] = [];
  for (const { corpus, text } of texts) {
    const ids = tokenizerModel.encode(text);
    const [a, b] = [await heldOutLoss(tokenizerModel, ids), await heldOutLoss(int8Model, ids)];
    ppl.push({ corpus, fp32: a.perplexity, int8: b.perplexity, tokens: a.tokens });
  }
  if (ppl.length) {
    console.log('\n| held-out text | tokens | perplexity fp32 | perplexity int8 | change |\n|---|---:|---:|---:|---:|');
    for (const p of ppl) console.log(`| ${p.corpus} (held-out last 5 %) | ${p.tokens} | ${p.fp32.toFixed(3)} | ${p.int8.toFixed(3)} | ${(((p.int8 - p.fp32) / p.fp32) * 100).toFixed(2)} % |`);
  }

  const int8 = rows.find((r) => r.runtime.endsWith('int8'))!;
  const torch = rows.find((r) => r.runtime.startsWith('torch'));
  const speedup = torch ? int8.tokensPerS / torch.tokensPerS : NaN;
  const worstPpl = ppl.length ? Math.max(...ppl.map((p) => (p.int8 - p.fp32) / p.fp32)) : NaN;
  console.log('\nGoals');
  console.log(`- int8 ORT >= 2x torch eager tokens/s: ${torch ? `${speedup.toFixed(2)}x -> ${speedup >= 2 ? 'PASS' : 'FAIL'}` : 'torch not measured -> FAIL'}`);
  const hasManifest = (await readManifest(modelDir)) !== undefined;
  console.log(
    `- int8 perplexity within 5 % of fp32: ${
      ppl.length
        ? `worst ${(worstPpl * 100).toFixed(2)} % -> ${worstPpl <= 0.05 ? 'PASS' : 'FAIL'}`
        : hasManifest
          ? `no held-out text found (no ${join(modelDir, 'heldout.json.gz')}; or set KUROKO_DATA_DIR to the training data) -> FAIL`
          : 'not measured: no manifest with training data (a shape-only model?)'
    }`,
  );
}

await main();
