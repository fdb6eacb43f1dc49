/**
 * The gguf backend for real: the shipped kuroko-tiny model exported to GGUF by this project's
 * exporter, run by llama.cpp (node-llama-cpp's CPU build) in the test process.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGgufFileInfo } from 'node-llama-cpp';
import { createBackend, GgufBackend, type TextBackend } from '../../hub/llm/index.ts';
import { collect } from './collect.ts';
import { loadBackendConfig } from '../../hub/llm/load-config.ts';
import { exportGguf } from '../../models/gguf/export-gguf.ts';
import { loadCausalLM, type CausalLM } from '../../models/runtime/index.ts';

const MODEL_DIR = 'models/kuroko-tiny';
const SHIPPED = join(MODEL_DIR, 'gguf/kuroko-tiny-f32.gguf');

describe('GGUF exporter', () => {
  it('re-exports the shipped model byte for byte, with the metadata llama.cpp needs', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'kuroko-gguf-')), 'tiny.gguf');
    const r = exportGguf(MODEL_DIR, { out, manifest: false });
    expect(r.tensors).toBe(53);
    expect(readFileSync(out).equals(readFileSync(SHIPPED))).toBe(true);
    const info = await readGgufFileInfo(out);
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(md.general).toMatchObject({ architecture: 'gpt2', name: 'kuroko-tiny' });
    expect(md.gpt2).toMatchObject({ context_length: 256, embedding_length: 128, block_count: 4 });
    const tok = md.tokenizer!.ggml as Record<string, unknown>;
    expect((tok.tokens as string[]).length).toBe(4096);
    expect((tok.tokens as string[])[4095]).toBe('<|endoftext|>');
    expect((tok.merges as string[]).length).toBe(3839);
  });

  it('refuses a tokenizer it cannot export, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-gguf-bad-'));
    writeFileSync(join(dir, 'config.json'), readFileSync(join(MODEL_DIR, 'config.json')));
    writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify({ added_tokens: [], model: { type: 'Unigram', vocab: {}, merges: [] }, pre_tokenizer: { type: 'Metaspace' } }));
    expect(() => exportGguf(dir)).toThrow(/tokenizer\.json: only a byte-level BPE/);
  });
});

describe('gguf backend', () => {
  let backend: GgufBackend;
  let onnx: CausalLM;
  beforeAll(async () => {
    // The config file's model path is relative to the file.
    backend = createBackend(loadBackendConfig('deploy/llm/kuroko-tiny-gguf.yaml')) as GgufBackend;
    const progress: number[] = [];
    await backend.load((p) => progress.push(p));
    expect(progress.at(-1)).toBe(1);
    onnx = await loadCausalLM(MODEL_DIR, { dtype: 'fp32' });
  }, 120_000);
  afterAll(async () => {
    await backend?.close();
    await onnx?.dispose();
  });

  // N = 32: one full node ad-lib (its token budget). Both run the same fp32 weights and differ
  // only in the order of float sums (~1e-6 relative), so greedy picks agree unless two logits tie
  // that closely; on these prompts all 48 tokens agreed when measured, so 32 leaves margin
  // without asserting more than a line needs.
  const N = 32;
  for (const prompt of ['ROMEO: I will go to the town tonight.\nJULIET:', '太郎　まだ夜は長いよ。\n花子　']) {
    it(`greedy generation agrees with the ONNX model on the first ${N} tokens: ${JSON.stringify(prompt.slice(0, 12))}`, async () => {
      const ref = await onnx.complete(prompt, { maxNewTokens: N, temperature: 0 });
      const got = await collect(backend.complete({ prompt, maxTokens: N, temperature: 0 }));
      expect(ref.tokens).toBe(N);
      expect(got.end).toMatchObject({ completionTokens: N, finishReason: 'length' });
      expect(got.text).toBe(ref.text);
      expect(got.pieces.length).toBeGreaterThan(4); // streamed, not one block
    });
  }

  it('stops at stop strings and on abort', async () => {
    const stopped = await collect(backend.complete({ prompt: 'ROMEO: I will go to the town tonight.\nJULIET:', maxTokens: 40, temperature: 0, stop: [','] }));
    expect(stopped.text).toBe(" I'll be a man");
    const ac = new AbortController();
    const gen = backend.complete({ prompt: 'ROMEO:', maxTokens: 40, temperature: 0.8, seed: 3, signal: ac.signal });
    await gen.next();
    ac.abort();
    let rest = 0;
    for (;;) { const r = await gen.next(); if (r.done) break; rest++; }
    expect(rest).toBeLessThan(39);
  });

  it('refuses a missing model file, naming the file, its size and how to get it', async () => {
    const b: TextBackend = createBackend(loadBackendConfig('deploy/llm/gemma-2-2b.yaml'));
    expect(b).toBeInstanceOf(GgufBackend);
    const err = await (b as GgufBackend).load().then(() => null, (e: Error) => e);
    // (If a developer has downloaded the model, this machine is not the place for this check.)
    if (err === null) return void console.log('gemma-2-2b-it-Q4_K_M.gguf is present here: the missing-file refusal is not exercised');
    expect(err.message).toMatch(/gemma-2-2b-it-Q4_K_M\.gguf not found \(about 1\.71 GB\)/);
    expect(err.message).toMatch(/curl -L .*huggingface\.co\/bartowski\/gemma-2-2b-it-GGUF/);
  });
});
