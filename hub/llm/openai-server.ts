/**
 * The hub serves its local model as an OpenAI-compatible endpoint, so any tool that speaks
 * that API (and Kuroko's own OpenAIBackend on another machine) can use it:
 *   GET /v1/models, POST /v1/completions, POST /v1/chat/completions (with stream: true SSE).
 * node:http only. A client that disconnects cancels its generation.
 *
 * CLI: node bin/run-ts.js hub/llm/openai-server.ts [--model DIR] [--port 8000] [--host 127.0.0.1]
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import pino, { type Logger } from 'pino';
import { startSse, writeSseData } from './sse.ts';
import type { ChatMessage, CompletionEnd, CompletionRequest, TextBackend } from './types.ts';

const Stop = Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 8 })]));
const Common = {
  model: Type.Optional(Type.String()),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192 })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
  top_p: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  seed: Type.Optional(Type.Integer()),
  stop: Stop,
  stream: Type.Optional(Type.Boolean()),
  /** Structured output, honoured while decoding (OpenAI / vLLM / llama.cpp server form). */
  response_format: Type.Optional(Type.Union([
    Type.Object({ type: Type.Literal('text') }),
    Type.Object({ type: Type.Literal('json_object') }),
    Type.Object({
      type: Type.Literal('json_schema'),
      json_schema: Type.Object({ name: Type.Optional(Type.String()), schema: Type.Record(Type.String(), Type.Unknown()), strict: Type.Optional(Type.Boolean()) }),
    }),
  ])),
  /** The llama.cpp server's own field for the same. */
  json_schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
};
export const CompletionBodySchema = Type.Object({ ...Common, prompt: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: 1 })]) });
export const ChatBodySchema = Type.Object({
  ...Common,
  messages: Type.Array(
    Type.Object({
      role: Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant')]),
      content: Type.String(),
      name: Type.Optional(Type.String()),
    }),
    { minItems: 1 },
  ),
});
type CommonBody = Static<typeof CompletionBodySchema> | Static<typeof ChatBodySchema>;

export interface OpenAIServerOptions {
  backend: TextBackend;
  /** The id clients put in `model`; any value is accepted, this is what /v1/models lists. */
  modelId: string;
  host?: string;
  /** 0 = a free port */
  port?: number;
  logger?: Logger;
}

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;

export async function startOpenAIServer(opts: OpenAIServerOptions): Promise<RunningServer> {
  const log = opts.logger ?? pino({ name: 'kuroko-llm-server', level: process.env.LOG_LEVEL ?? 'info' });
  const server = createServer((req, res) => {
    handle(req, res, opts, log).catch((err: Error) => {
      log.error({ err: err.message, url: req.url }, 'request failed');
      const status = (err as { status?: number }).status;
      if (!res.headersSent) sendError(res, status && status >= 400 && status < 500 ? status : 500, err.message, status === 400 ? 'invalid_request_error' : 'server_error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}/v1`;
  log.info({ url, model: opts.modelId, backend: opts.backend.name }, 'OpenAI-compatible server listening');
  return {
    url,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: OpenAIServerOptions, log: Logger): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '');
  if (req.method === 'GET' && path === '/v1/models') {
    return sendJson(res, 200, {
      object: 'list',
      data: [{ id: opts.modelId, object: 'model', created: 0, owned_by: 'kuroko' }],
    });
  }
  const chat = path === '/v1/chat/completions';
  if (req.method !== 'POST' || (!chat && path !== '/v1/completions')) {
    return sendError(res, 404, `no route ${req.method} ${path}`, 'not_found_error');
  }
  let body: unknown;
  try {
    body = JSON.parse(await readBody(req));
  } catch (err) {
    return sendError(res, 400, `body is not JSON: ${(err as Error).message}`);
  }
  const schema = chat ? ChatBodySchema : CompletionBodySchema;
  if (!Value.Check(schema, body)) {
    const e = [...Value.Errors(schema, body)][0];
    return sendError(res, 400, `invalid request at ${e?.path || '/'}: ${e?.message}`);
  }
  const b = body as CommonBody;
  // The generation stops when the client goes away (res 'close' before we finished).
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const request: CompletionRequest = {
    ...('messages' in b ? { messages: b.messages as ChatMessage[] } : { prompt: Array.isArray(b.prompt) ? b.prompt[0] : b.prompt }),
    maxTokens: b.max_tokens ?? 16,
    temperature: b.temperature,
    topP: b.top_p,
    seed: b.seed,
    stop: b.stop === undefined ? undefined : Array.isArray(b.stop) ? b.stop : [b.stop],
    signal: abort.signal,
  };
  const rf = b.response_format;
  const responseSchema = rf?.type === 'json_schema' ? rf.json_schema.schema : rf?.type === 'json_object' ? { type: 'object' } : b.json_schema;
  if (responseSchema) request.responseSchema = responseSchema;
  const id = `${chat ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = b.model ?? opts.modelId;
  const gen = opts.backend.complete(request);
  const t0 = Date.now();

  if (b.stream) {
    // The first piece before the headers: a request the backend refuses (a schema it cannot
    // enforce) gets its HTTP status, not a broken stream.
    let firstPiece: IteratorResult<string, CompletionEnd | void>;
    try {
      firstPiece = await gen.next();
    } catch (err) {
      const status = (err as { status?: number }).status;
      return sendError(res, status && status >= 400 && status < 500 ? status : 500, (err as Error).message, status === 400 ? 'invalid_request_error' : 'server_error');
    }
    startSse(res);
    const chunk = (piece: string | undefined, finish: string | null) =>
      chat
        ? { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: piece === undefined ? {} : { content: piece }, finish_reason: finish }] }
        : { id, object: 'text_completion', created, model, choices: [{ index: 0, text: piece ?? '', finish_reason: finish }] };
    if (chat) writeSseData(res, { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] });
    let end: CompletionEnd | void;
    try {
      for (let r = firstPiece; ; r = await gen.next()) {
        if (r.done) {
          end = r.value;
          break;
        }
        writeSseData(res, chunk(r.value, null));
      }
    } catch (err) {
      // Headers are sent: report the failure in-band, as vLLM does, so clients do not mistake
      // a truncated stream for a finished one.
      log.error({ id, err: (err as Error).message }, 'generation failed mid-stream');
      writeSseData(res, { error: { message: (err as Error).message, type: 'server_error' } });
      res.end();
      return;
    }
    if (!abort.signal.aborted) {
      writeSseData(res, chunk(undefined, end?.finishReason ?? 'stop'));
      writeSseData(res, '[DONE]');
    }
    res.end();
    log.debug({ id, ms: Date.now() - t0, aborted: abort.signal.aborted }, 'streamed completion');
    return;
  }

  let text = '';
  let end: CompletionEnd | void;
  for (;;) {
    const r = await gen.next();
    if (r.done) {
      end = r.value;
      break;
    }
    text += r.value;
  }
  const finish_reason = end?.finishReason ?? 'stop';
  const usage = { prompt_tokens: end?.promptTokens ?? 0, completion_tokens: end?.completionTokens ?? 0, total_tokens: (end?.promptTokens ?? 0) + (end?.completionTokens ?? 0) };
  sendJson(
    res,
    200,
    chat
      ? { id, object: 'chat.completion', created, model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason }], usage }
      : { id, object: 'text_completion', created, model, choices: [{ index: 0, text, finish_reason }], usage },
  );
  log.debug({ id, ms: Date.now() - t0 }, 'completion');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, type = 'invalid_request_error'): void {
  sendJson(res, status, { error: { message, type, code: null } });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { parseArgs } = await import('node:util');
  const { DEFAULT_NODE_MODEL_DIR } = await import('../../models/runtime/index.ts');
  const { OnnxBackend } = await import('./onnx-backend.ts');
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: DEFAULT_NODE_MODEL_DIR },
      port: { type: 'string', default: '8000' },
      host: { type: 'string', default: '127.0.0.1' },
      'execution-provider': { type: 'string', default: 'cpu' },
    },
  });
  const backend = new OnnxBackend({ kind: 'onnx', model: values.model!, executionProvider: values['execution-provider'] as 'cpu' | 'cuda' });
  await backend.load();
  const running = await startOpenAIServer({ backend, modelId: values.model!.replace(/\/+$/, '').split('/').pop()!, host: values.host, port: Number(values.port) });
  const shutdown = () => void running.close().then(() => backend.close()).then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
