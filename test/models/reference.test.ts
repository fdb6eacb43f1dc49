/**
 * The hand-written KV-cache loop against an independent implementation: transformers.js'
 * own generate() on the same folder and weights. Greedy decoding must give the same tokens.
 */
import { describe, expect, it } from 'vitest';
import { dirname, basename } from 'node:path';
import { AutoModelForCausalLM, env } from '@huggingface/transformers';
import { DEFAULT_NODE_MODEL_DIR } from '../../models/runtime/index.ts';
import { shippedModel } from './helpers.ts';

describe('runtime vs transformers.js generate', () => {
  for (const dtype of ['fp32', 'int8'] as const) {
    it(`greedy ${dtype} output is identical`, async () => {
      const ours = await shippedModel(dtype);
      const prompt = 'ROMEO: But, soft!\nJULIET:';
      const r = await ours.complete(prompt, { maxNewTokens: 24, temperature: 0, ignoreEos: true });

      env.allowRemoteModels = false;
      env.localModelPath = dirname(DEFAULT_NODE_MODEL_DIR.replace(/\/$/, '')) + '/';
      const ref = await AutoModelForCausalLM.from_pretrained(basename(DEFAULT_NODE_MODEL_DIR), { dtype, local_files_only: true });
      const ids = ours.encode(prompt);
      const { Tensor } = await import('@huggingface/transformers');
      const input_ids = new Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]);
      const attention_mask = new Tensor('int64', new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
      const out = (await ref.generate({ input_ids, attention_mask, max_new_tokens: 24, min_new_tokens: 24, do_sample: false })) as unknown as { tolist(): bigint[][] };
      const refIds = out.tolist()[0].slice(ids.length).map(Number);
      expect(r.tokenIds).toEqual(refIds);
      await ref.dispose();
    });
  }
});
