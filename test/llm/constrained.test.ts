/**
 * Schema-constrained turns on every real backend, with the shipped 1.35 M model (the hardest
 * case: it has never seen JSON): token-masked decoding in the ONNX runtime, the same masking
 * through llama.cpp for the GGUF export, and response_format honoured by the hub's own
 * OpenAI-compatible server. Sampled at temperature 1, every answer must be one JSON object of
 * the turn schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createBackend, GgufBackend, OnnxBackend, OpenAIBackend, startOpenAIServer, type RunningServer, type TextBackend } from '../../hub/llm/index.ts';
import { loadBackendConfig } from '../../hub/llm/load-config.ts';
import { structuralCheck, turnResponseSchema } from '../../hub/ensemble/turn-schema.ts';
import type { Character } from '../../hub/ensemble/character.ts';
import { readFileSync } from 'node:fs';
import { JsonSchemaMachine } from '../../models/runtime/index.ts';
import { JsonConstraint, VocabTrie, tokenBytesFromTokenizerJson } from '../../models/runtime/json-constraint.ts';

const quiet = pino({ level: 'silent' });
const schema = turnResponseSchema({ speaker: { name: 'KENZAKI' } as Character, gestures: ['nod', 'point'] });
const PROMPT = 'KENZAKI: We go now.\nTACHIBANA: The odds are poor.\nKENZAKI:';

async function text(b: TextBackend, seed: number, maxTokens = 80, s: Record<string, unknown> = schema): Promise<string> {
  let out = '';
  for await (const p of b.complete({ prompt: PROMPT, maxTokens, temperature: 1, seed, responseSchema: s })) out += p;
  return out;
}

async function expectAllStructural(b: TextBackend, n: number): Promise<string[]> {
  const answers: string[] = [];
  for (let seed = 1; seed <= n; seed++) answers.push(await text(b, seed));
  for (const a of answers) expect(structuralCheck(schema, a), a).toBe(true);
  // Written by the model, not only closed by the constraint: lines differ from one seed to the next.
  expect(new Set(answers.map((a) => JSON.parse(a).line)).size).toBeGreaterThan(n / 2);
  return answers;
}

describe('schema compiler for token masking', () => {
  it('refuses what it cannot enforce, naming the place', () => {
    expect(() => new JsonSchemaMachine({ type: 'object', properties: { tags: { type: 'array' } } })).toThrow(/#\/properties\/tags: type "array" is not supported/);
    expect(() => new JsonSchemaMachine({ type: 'object', properties: {} })).toThrow(/#: an object needs properties/);
  });

  it('accepts exactly the schema bytes: enums, plain text lines, numbers', () => {
    const m = new JsonSchemaMachine({ type: 'object', properties: { e: { enum: ['joy', 'fear'] }, n: { type: 'number' }, line: { type: 'string', minLength: 2, maxLength: 5 } } });
    const run = (s: string) => { let st: ReturnType<typeof m.start> | null = m.start(); for (const b of Buffer.from(s)) st = st && m.step(st, b); return st ? m.isComplete(st) : null; };
    expect(run('{"e":"joy","n":0.5,"line":"Hi yo"}')).toBe(true);
    expect(run('{"e":"joy","n":12,"line":"夜だ"}')).toBe(true);
    expect(run('{"e":"joyful"')).toBe(null);
    expect(run('{"e":"fear","n":1,"line":"Hi yo!"}')).toBe(null); // 6 characters > maxLength
    expect(run('{"e":"fear","n":1,"line":" Hi"}')).toBe(null); // leading space
    expect(run('{"e":"fear","n":1,"line":"Hi  yo"}')).toBe(null); // double space
    expect(run('{"e":"fear","n":1,"line":"(sighs)"}')).toBe(null); // stage direction
  });
});

describe('text the schema forces', () => {
  const tj = JSON.parse(readFileSync('models/kuroko-tiny/tokenizer.json', 'utf8')) as { model: { vocab: Record<string, number> } };
  const bytes = tokenBytesFromTokenizerJson(tj, 4096);
  const trie = new VocabTrie(bytes);
  const dec = (ids: number[]) => new TextDecoder().decode(Buffer.concat(ids.map((i) => bytes[i]!)));

  it('is known before the model says anything, and allowed only as its longest tokens', () => {
    const c = new JsonConstraint(new JsonSchemaMachine(schema), trie, bytes);
    const head = '{"speaker":"KENZAKI","emotion":"';
    expect(Buffer.from(c.forcedBytes()).toString()).toBe(head);
    const forced = c.forcedTokens();
    expect(dec(forced)).toBe(head);
    // Longest first: no forced token could have been longer (the next byte would not extend it).
    expect(forced.length).toBeLessThan(head.length);
    const allowed = c.allowed(100, 4096);
    expect([...allowed.keys()].filter((i) => allowed[i])).toEqual([forced[0]]);
    for (const id of forced) c.accept(id);
    // Then the model chooses (twelve emotions): nothing is forced until it has.
    expect(c.forcedBytes()).toEqual([]);
    expect(c.allowed(100, 4096).reduce((a, b) => a + b, 0)).toBeGreaterThan(1);
  });

  it('an enum value is forced once its first letters tell it apart', () => {
    const c = new JsonConstraint(new JsonSchemaMachine(schema), trie, bytes);
    for (const id of c.forcedTokens()) c.accept(id);
    const d = [...trie.root.next.get(0x64)!.ids][0]!; // "d": only "determined" starts so
    c.accept(d);
    expect(Buffer.from(c.forcedBytes()).toString()).toBe('etermined","intensity":');
  });
});

describe('constrained decoding, kuroko-tiny', () => {
  let onnx: OnnxBackend;
  let gguf: GgufBackend;
  let server: RunningServer;
  beforeAll(async () => {
    onnx = new OnnxBackend({ kind: 'onnx', model: 'models/kuroko-tiny', executionProvider: 'cpu', threads: 1 }, { logger: quiet });
    gguf = createBackend(loadBackendConfig('deploy/llm/kuroko-tiny-gguf.yaml'), { logger: quiet }) as GgufBackend;
    await Promise.all([onnx.load(), gguf.load()]);
    server = await startOpenAIServer({ backend: onnx, modelId: 'kuroko-tiny', logger: quiet });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await onnx?.close();
    await gguf?.close();
  });

  it('onnx: every sampled answer is one JSON turn (token-masked decoding)', async () => {
    await expectAllStructural(onnx, 10);
  });

  it('onnx and gguf: a budget too small for the schema is raised, and the object always closes', async () => {
    for (const b of [onnx, gguf]) {
      const a = await text(b, 3, 10);
      expect(structuralCheck(schema, a), a).toBe(true);
    }
  });

  it('gguf (llama.cpp): every sampled answer is one JSON turn', async () => {
    await expectAllStructural(gguf, 10);
  });

  it('gguf: text the schema forces comes in one batch (jump-forward), sampled text a token at a time', async () => {
    const pieces = async (b: TextBackend) => { const out: string[] = []; for await (const p of b.complete({ prompt: PROMPT, maxTokens: 80, temperature: 1, seed: 5, responseSchema: schema })) out.push(p); return out; };
    const jumping = await pieces(gguf);
    expect(jumping[0]).toBe('{"speaker":"KENZAKI","emotion":"');
    expect(structuralCheck(schema, jumping.join(''))).toBe(true);
    const stepping = createBackend({ ...loadBackendConfig('deploy/llm/kuroko-tiny-gguf.yaml'), jumpForward: false } as never, { logger: quiet });
    try {
      const slow = await pieces(stepping);
      expect(slow[0]!.length).toBeLessThan(4);
      expect(structuralCheck(schema, slow.join(''))).toBe(true);
      // Fewer pieces: every forced run is one.
      expect(jumping.length).toBeLessThan(slow.length);
    } finally {
      await stepping.close?.();
    }
  }, 60_000);

  it('the hub server honours response_format json_schema (chat and completions), and refuses a schema it cannot enforce', async () => {
    const client = new OpenAIBackend({ kind: 'openai', baseUrl: server.url, model: 'kuroko-tiny', timeoutMs: 20_000, retries: 0 });
    for (let seed = 1; seed <= 4; seed++) expect(structuralCheck(schema, await text(client, seed))).toBe(true);
    let chat = '';
    for await (const p of client.complete({ messages: [{ role: 'user', content: 'Speak.', name: 'TACHIBANA' }], maxTokens: 80, temperature: 1, seed: 2, responseSchema: schema })) chat += p;
    expect(structuralCheck(schema, chat), chat).toBe(true);
    const res = await fetch(`${server.url}/completions`, {
      method: 'POST',
      body: JSON.stringify({ prompt: 'x', max_tokens: 10, stream: true, response_format: { type: 'json_schema', json_schema: { name: 't', schema: { type: 'object', properties: { a: { type: 'array' } } } } } }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/type \\"array\\" is not supported/);
  });
});
