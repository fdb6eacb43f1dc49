import { describe, expect, it } from 'vitest';
import { env } from '@huggingface/transformers';
import { shippedModel } from './helpers.ts';

const ENGLISH = "First Citizen: Before we proceed any further, hear me speak.\nAll: Speak, speak! We'll have corn at our own price.";
const JAPANESE = 'ノラ　肉色、綺麗でせう？　おやどうしよう。暗くなつたこと、けど明日はね――あら、いけませんよ。';

describe('tokenizer (transformers.js, local files only)', () => {
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

  it('never contacts the Hugging Face Hub', async () => {
    await shippedModel();
    expect(env.allowRemoteModels).toBe(false);
  });
});
