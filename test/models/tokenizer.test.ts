import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../models/runtime/tokenizer.ts';
import { DEFAULT_NODE_MODEL_DIR } from '../../models/runtime/index.ts';
import { shippedModel } from './helpers.ts';

const ENGLISH = "First Citizen: Before we proceed any further, hear me speak.\nAll: Speak, speak! We'll have corn at our own price.";
const JAPANESE = 'ノラ　肉色、綺麗でせう？　おやどうしよう。暗くなつたこと、けど明日はね――あら、いけませんよ。';

describe('tokenizer (@huggingface/tokenizers, local files only)', () => {
  it('round-trips English', async () => {
    const m = await shippedModel();
    const ids = m.encode(ENGLISH);
    expect(ids.length).toBeLessThan(ENGLISH.length / 2); // merges learned on the corpus compress it
    expect(m.decode(ids)).toBe(ENGLISH);
  });

  it('round-trips Japanese (multi-byte characters split across byte-level tokens)', async () => {
    const m = await shippedModel();
    const ids = m.encode(JAPANESE);
    expect(ids.length).toBeLessThan(JAPANESE.length * 1.5);
    expect(m.decode(ids)).toBe(JAPANESE);
    expect(m.decode(m.encode('混ぜた text 🎭 and emoji'))).toBe('混ぜた text 🎭 and emoji');
  });

  it('never contacts the Hugging Face Hub: loads with the network refused', async () => {
    const realFetch = globalThis.fetch;
    let calls = 0;
    globalThis.fetch = (() => { calls++; throw new Error('no network on stage'); }) as typeof fetch;
    try {
      const tok = await loadTokenizer(DEFAULT_NODE_MODEL_DIR);
      expect(tok.decode(tok.encode(ENGLISH))).toBe(ENGLISH);
    } finally {
      globalThis.fetch = realFetch;
    }
    expect(calls).toBe(0);
  });

  it('keeps the node light: the tokenizer does not import transformers.js', async () => {
    const src = await import('node:fs/promises').then((fs) => fs.readFile(new URL('../../models/runtime/tokenizer.ts', import.meta.url), 'utf8'));
    expect(src).not.toMatch(/from '@huggingface\/transformers'/);
  });
});
