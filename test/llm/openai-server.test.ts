/**
 * The OpenAI-compatible client (OpenAIBackend) against the hub's real OpenAI-compatible HTTP
 * server on a free 127.0.0.1 port: no stubs between them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import {
  OnnxBackend,
  OpenAIBackend,
  ScriptedBackend,
  startOpenAIServer,
  type CompletionEnd,
  type CompletionRequest,
  type RunningServer,
  type TextBackend,
} from '../../hub/llm/index.ts';
import { collect } from './collect.ts';
import { DEFAULT_NODE_MODEL_DIR } from '../../models/runtime/index.ts';

const quiet = pino({ level: 'silent' });

/** A backend that streams slowly and records whether its request was cancelled. */
class SlowBackend implements TextBackend {
  readonly name = 'slow';
  aborted: Promise<boolean>;
  private sawAbort!: (v: boolean) => void;
  constructor() {
    this.aborted = new Promise((r) => (this.sawAbort = r));
  }
  async *complete(req: CompletionRequest): AsyncGenerator<string, CompletionEnd> {
    for (let i = 0; i < 100; i++) {
      if (req.signal?.aborted) {
        this.sawAbort(true);
        return { finishReason: 'stop' };
      }
      yield `w${i} `;
      await new Promise((r) => setTimeout(r, 20));
    }
    this.sawAbort(false);
    return { finishReason: 'length' };
  }
}

describe('OpenAI-compatible server + client (scripted model)', () => {
  let server: RunningServer;
  let client: OpenAIBackend;
  beforeAll(async () => {
    server = await startOpenAIServer({ backend: new ScriptedBackend(['Now is the winter of our discontent.']), modelId: 'scripted', logger: quiet });
    client = new OpenAIBackend({ kind: 'openai', baseUrl: server.url, model: 'scripted', timeoutMs: 2000, retries: 0 });
  });
  afterAll(() => server.close());

  it('lists the model', async () => {
    const res = await fetch(`${server.url}/models`);
    expect(await res.json()).toMatchObject({ object: 'list', data: [{ id: 'scripted', object: 'model' }] });
  });

  it('streams /v1/completions as SSE ending in [DONE]', async () => {
    const res = await fetch(`${server.url}/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', max_tokens: 50, stream: true }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const raw = await res.text();
    const events = raw.split('\n\n').filter(Boolean);
    expect(events.length).toBeGreaterThan(3);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)!.slice(6)).choices[0].finish_reason).toBe('stop');
  });

  it('the client streams completions and chat, piece by piece', async () => {
    const a = await collect(client.complete({ prompt: 'RICHARD: ', maxTokens: 50 }));
    expect(a.text).toBe('Now is the winter of our discontent.');
    expect(a.pieces.length).toBeGreaterThan(1);
    expect(a.end).toEqual({ finishReason: 'stop' });
    const b = await collect(client.complete({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 3 }));
    expect(b.text).toBe('Now is the');
    expect(b.end).toEqual({ finishReason: 'length' });
  });

  it('answers without streaming and rejects bad requests', async () => {
    const ok = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }),
    });
    expect(await ok.json()).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'Now is' }, finish_reason: 'length' }] });
    const bad = await fetch(`${server.url}/completions`, { method: 'POST', body: JSON.stringify({ max_tokens: 'many' }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/invalid request/);
    await expect(collect(new OpenAIBackend({ kind: 'openai', baseUrl: server.url.replace('/v1', '/nope'), model: 'x', timeoutMs: 1000, retries: 0 }).complete({ prompt: 'x', maxTokens: 1 }))).rejects.toThrow(/404/);
  });
});

describe('OpenAI-compatible server + client (local ONNX model)', () => {
  let server: RunningServer;
  let backend: OnnxBackend;
  beforeAll(async () => {
    backend = new OnnxBackend({ kind: 'onnx', model: DEFAULT_NODE_MODEL_DIR, executionProvider: 'cpu', threads: 1 }, { logger: quiet });
    await backend.load();
    server = await startOpenAIServer({ backend, modelId: 'kuroko-tiny', logger: quiet });
  });
  afterAll(async () => {
    await server.close();
    await backend.close();
  });

  it('streams over HTTP exactly what the model generates locally for the same seed', async () => {
    const client = new OpenAIBackend({ kind: 'openai', baseUrl: server.url, model: 'kuroko-tiny', timeoutMs: 5000, retries: 0 });
    const req = { prompt: 'KING HENRY: Once more unto the breach, ', maxTokens: 30, temperature: 0.8, topP: 0.9, seed: 11 };
    const remote = await collect(client.complete(req));
    const local = await collect(backend.complete(req));
    expect(remote.text.length).toBeGreaterThan(0);
    expect(remote.text).toBe(local.text);
    expect(remote.pieces.length).toBeGreaterThan(1);
  });
});

describe('cancellation, timeouts and retries', () => {
  it('aborting the client ends its stream and cancels the generation on the server', async () => {
    const slow = new SlowBackend();
    const server = await startOpenAIServer({ backend: slow, modelId: 'slow', logger: quiet });
    try {
      const client = new OpenAIBackend({ kind: 'openai', baseUrl: server.url, model: 'slow', timeoutMs: 2000, retries: 0 });
      const ac = new AbortController();
      const pieces: string[] = [];
      for await (const p of client.complete({ prompt: 'x', maxTokens: 100, signal: ac.signal })) {
        pieces.push(p);
        if (pieces.length === 3) ac.abort();
      }
      expect(pieces.length).toBe(3);
      expect(await slow.aborted).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('times out a stalled server, retrying the configured number of times', async () => {
    const { createServer } = await import('node:http');
    let requests = 0;
    const stalled = createServer(() => void requests++); // accepts, never answers
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', () => r()));
    const port = (stalled.address() as { port: number }).port;
    try {
      const client = new OpenAIBackend({ kind: 'openai', baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm', timeoutMs: 100, retries: 2 }, { logger: quiet });
      const t0 = Date.now();
      await expect(collect(client.complete({ prompt: 'x', maxTokens: 5 }))).rejects.toThrow(/no data for 100 ms/);
      expect(requests).toBe(3);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    } finally {
      stalled.closeAllConnections();
      await new Promise((r) => stalled.close(r));
    }
  });

  it('retries a 503 and then streams from the recovered server', async () => {
    const real = await startOpenAIServer({ backend: new ScriptedBackend(['Back again.']), modelId: 's', logger: quiet });
    const { createServer, request } = await import('node:http');
    let requests = 0;
    // flaky front: the first request gets 503, later ones are passed through to the real server
    const flaky = createServer((req, res) => {
      if (requests++ === 0) {
        res.writeHead(503).end('busy');
        return;
      }
      const up = request({ host: '127.0.0.1', port: real.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => flaky.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (flaky.address() as { port: number }).port;
      const client = new OpenAIBackend({ kind: 'openai', baseUrl: `http://127.0.0.1:${port}/v1`, model: 's', timeoutMs: 2000, retries: 1 }, { logger: quiet });
      expect((await collect(client.complete({ prompt: 'x', maxTokens: 5 }))).text).toBe('Back again.');
      expect(requests).toBe(2);
      const noRetry = new OpenAIBackend({ kind: 'openai', baseUrl: `http://127.0.0.1:${port}/v1`, model: 's', timeoutMs: 2000, retries: 0 });
      requests = 0;
      await expect(collect(noRetry.complete({ prompt: 'x', maxTokens: 5 }))).rejects.toThrow(/503/);
    } finally {
      flaky.closeAllConnections();
      await new Promise((r) => flaky.close(r));
      await real.close();
    }
  });
});

describe('errors during a stream', () => {
  it('a backend failure mid-stream reaches the client as an error, after the text so far', async () => {
    const failing: TextBackend = {
      name: 'failing',
      async *complete() {
        yield 'Alas, ';
        throw new Error('model fell over');
      },
    };
    const server = await startOpenAIServer({ backend: failing, modelId: 'f', logger: quiet });
    try {
      const client = new OpenAIBackend({ kind: 'openai', baseUrl: server.url, model: 'f', timeoutMs: 2000, retries: 3 }, { logger: quiet });
      const pieces: string[] = [];
      await expect(
        (async () => {
          for await (const p of client.complete({ prompt: 'x', maxTokens: 5 })) pieces.push(p);
        })(),
      ).rejects.toThrow(/model fell over/);
      expect(pieces).toEqual(['Alas, ']); // not retried: text was already streamed
    } finally {
      await server.close();
    }
  });
});
