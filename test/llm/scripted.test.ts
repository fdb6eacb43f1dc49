import { describe, expect, it } from 'vitest';
import { createBackend, ScriptedBackend } from '../../hub/llm/index.ts';
import { collect } from './collect.ts';

describe('scripted backend', () => {
  it('returns its lines in turn, streamed in pieces, wrapping around', async () => {
    const b = createBackend({ kind: 'scripted', lines: ['To be, or not to be.', 'Exit, pursued by a bear.'] });
    const one = await collect(b.complete({ prompt: 'x', maxTokens: 50 }));
    expect(one.text).toBe('To be, or not to be.');
    expect(one.pieces.length).toBeGreaterThan(1);
    expect(one.end).toEqual({ finishReason: 'stop', completionTokens: 6 });
    expect((await collect(b.complete({ prompt: 'x', maxTokens: 50 }))).text).toBe('Exit, pursued by a bear.');
    expect((await collect(b.complete({ prompt: 'x', maxTokens: 50 }))).text).toBe('To be, or not to be.');
  });

  it('honours maxTokens, stop strings and cancellation', async () => {
    const b = new ScriptedBackend(['one two three four. five']);
    const short = await collect(b.complete({ prompt: '', maxTokens: 2 }));
    expect(short).toMatchObject({ text: 'one two', end: { finishReason: 'length' } });
    expect((await collect(b.complete({ prompt: '', maxTokens: 9, stop: ['.'] }))).text).toBe('one two three four');
    const ac = new AbortController();
    const gen = b.complete({ prompt: '', maxTokens: 9, signal: ac.signal });
    expect((await gen.next()).value).toBe('one');
    ac.abort();
    expect((await gen.next()).done).toBe(true);
  });
});

describe('createBackend', () => {
  it('fills defaults and rejects invalid configs', () => {
    const b = createBackend({ kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1', model: 'm' } as never);
    expect(b.name).toBe('openai:m@http://127.0.0.1:1/v1');
    expect(() => createBackend({ kind: 'scripted', lines: [] })).toThrow(/lines/);
    expect(() => createBackend({ kind: 'openai', baseUrl: 'ftp://x', model: 'm', timeoutMs: 1, retries: 0 })).toThrow(/baseUrl/);
    expect(() => createBackend({ kind: 'nope' } as never)).toThrow(/invalid LLM backend config/);
  });
});
