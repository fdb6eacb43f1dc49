import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, open, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_NODE_MODEL_DIR, loadCausalLM, ModelFileError, readManifest } from '../../models/runtime/index.ts';
import { quiet } from './helpers.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kuroko-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function copyModel(name: string): Promise<string> {
  const to = join(dir, name);
  await cp(DEFAULT_NODE_MODEL_DIR, to, { recursive: true });
  return to;
}

describe('the shipped model folder', () => {
  it('loads with default options (int8 from the manifest, default threads) and passes its checksums', async () => {
    const m = await loadCausalLM(DEFAULT_NODE_MODEL_DIR, { logger: quiet });
    expect(m.dtype).toBe('int8');
    expect((await m.complete('ROMEO:', { maxNewTokens: 4, seed: 1 })).tokens).toBeGreaterThan(0);
    await m.dispose();
  });
});

describe('broken model folders give clear errors', () => {
  it('a missing file is named with its expected sha256', async () => {
    const m = await copyModel('missing');
    const sha = (await readManifest(m))!.files.find((f) => f.path === 'onnx/model_int8.onnx')!.sha256;
    await unlink(join(m, 'onnx/model_int8.onnx'));
    const err = await loadCausalLM(m, { logger: quiet }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toContain(join(m, 'onnx/model_int8.onnx'));
    expect((err as Error).message).toContain(sha);
    expect((err as Error).message).toMatch(/missing/);
  });

  it('a corrupted file fails its sha256 check', async () => {
    const m = await copyModel('corrupt');
    const sha = (await readManifest(m))!.files.find((f) => f.path === 'tokenizer.json')!.sha256;
    const fh = await open(join(m, 'tokenizer.json'), 'r+');
    await fh.write(Buffer.from('X'), 0, 1, 100); // one byte changed
    await fh.close();
    const err = (await loadCausalLM(m, { logger: quiet }).catch((e: unknown) => e)) as ModelFileError;
    expect(err).toBeInstanceOf(ModelFileError);
    expect(err.name).toBe('ModelFileCorruptError');
    expect(err.file).toBe(join(m, 'tokenizer.json'));
    expect(err.message).toContain(`expected sha256 ${sha}`);
    expect(err.actualSha256).not.toBe(sha);
  });

  it('without a manifest, a missing file is still named', async () => {
    const m = await copyModel('no-manifest');
    await unlink(join(m, 'manifest.json'));
    await unlink(join(m, 'config.json'));
    await expect(loadCausalLM(m, { dtype: 'fp32', logger: quiet })).rejects.toThrow(join(m, 'config.json'));
  });

  it('an invalid manifest is reported as such', async () => {
    const m = await copyModel('bad-manifest');
    await writeFile(join(m, 'manifest.json'), '{"name": 3}');
    await expect(loadCausalLM(m, { logger: quiet })).rejects.toThrow(/manifest schema/);
  });

  it('CUDA either works or fails with a message that says how to fix it', async () => {
    // CI and this repository's .npmrc have no CUDA build of onnxruntime-node; a GPU hub may.
    const result = await loadCausalLM(DEFAULT_NODE_MODEL_DIR, { executionProvider: 'cuda', logger: quiet }).then(
      async (m) => (await m.complete('ROMEO: ', { maxNewTokens: 3 })).tokens,
      (e: Error) => e.message,
    );
    if (typeof result === 'number') expect(result).toBeGreaterThan(0);
    else expect(result).toMatch(/CUDA execution provider.*use executionProvider "cpu"/s);
  });
});
