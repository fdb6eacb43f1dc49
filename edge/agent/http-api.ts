/**
 * The agent's HTTP API (paths and payloads in protocol/agent-api.ts). Bounded: JSON bodies up to
 * AGENT_MAX_JSON_BYTES, bundles up to the agent's limit, both refused from Content-Length before
 * anything is read; unknown paths and methods are refused naming what the agent does answer.
 * Adopt, update and rollback answer NDJSON progress lines and end with the result line.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Logger } from 'pino';
import { AGENT_MAX_JSON_BYTES, AGENT_ROUTES, checkAgentPayload, type AgentProgressT, type AgentResultT } from '../../protocol/agent-api.ts';
import type { NodeAgent } from './agent.ts';
import type { PairingVerdict } from './pairing.ts';
import { sealContext } from '../../protocol/pairing-seal.ts';

const ROUTE_LIST = Object.values(AGENT_ROUTES).map((r) => `${r.method} ${r.path}`).join(', ');

class HttpRefusal extends Error {
  constructor(readonly status: number, message: string, readonly next?: string, readonly headers: Record<string, string> = {}) { super(message); }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function bearer(req: IncomingMessage): string | null {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice(7).trim() : null;
}

function declaredLength(req: IncomingMessage, max: number, what: string): number {
  const raw = req.headers['content-length'];
  if (raw === undefined) throw new HttpRefusal(411, `${what} needs a Content-Length header`);
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new HttpRefusal(400, `bad Content-Length "${raw}"`);
  if (n > max) throw new HttpRefusal(413, `${what} of ${n} bytes is larger than this agent's limit of ${max} bytes`, 'raise --max-bundle-mb on the agent, or make the bundle smaller');
  return n;
}

/** Counts bytes as they stream, and stops a body that grows past what it declared. */
function limiter(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > max) cb(new HttpRefusal(413, `body is larger than the ${max} bytes declared`));
      else cb(null, chunk);
    },
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const n = declaredLength(req, AGENT_MAX_JSON_BYTES, 'a JSON request');
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const c of req) {
    seen += (c as Buffer).length;
    if (seen > n) throw new HttpRefusal(413, 'body is larger than its Content-Length');
    chunks.push(c as Buffer);
  }
  try { return JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch (e) { throw new HttpRefusal(400, `body is not JSON: ${(e as Error).message}`); }
}

/** Streams progress lines, then the result line. */
async function ndjson(res: ServerResponse, run: (sink: (p: AgentProgressT) => void) => Promise<AgentResultT>): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' });
  const r = await run((p) => { res.write(JSON.stringify(p) + '\n'); });
  res.end(JSON.stringify(r) + '\n');
}

export interface AgentHttpOptions { agent: NodeAgent; maxBundleBytes: number; log: Logger }

export function createAgentServer(o: AgentHttpOptions): Server {
  const { agent, log } = o;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const route = Object.entries(AGENT_ROUTES).find(([, r]) => r.path === url.pathname);
    if (!route) throw new HttpRefusal(404, `unknown request ${req.method} ${url.pathname}; this agent answers ${ROUTE_LIST}`);
    const [name, r] = route;
    if (req.method !== r.method) throw new HttpRefusal(405, `${url.pathname} takes ${r.method}, not ${req.method}`);
    const needsAuth = r.auth === true || (r.auth === 'when adopted' && agent.adopted);
    // A node with a certificate from the show CA takes the token only over TLS (its fleet pins that CA).
    if (needsAuth && agent.tlsMaterial() && !(req.socket as TLSSocket).encrypted) {
      throw new HttpRefusal(426, `node ${agent.info().nodeId} takes ${req.method} ${url.pathname} over HTTPS only (its certificate is from the show CA)`, 'use the fleet that adopted it: it holds the show CA for this node in its fleet folder', { upgrade: 'TLS/1.3' });
    }
    if (needsAuth && !agent.authorized(bearer(req))) {
      throw new HttpRefusal(agent.adopted ? 403 : 409, agent.adopted
        ? `node ${agent.info().nodeId} is adopted: this needs the fleet's token for it`
        : 'this node is not adopted yet', agent.adopted ? 'use the fleet that adopted it (kuroko fleet … reads its token from the fleet folder), or reset the agent on the node: kuroko node agent --reset' : 'adopt it first: kuroko fleet adopt');
    }
    switch (name) {
      case 'info':
        return sendJson(res, 200, agent.info());
      case 'adopt': {
        let body = await readJson(req);
        const refuse = (v: Exclude<PairingVerdict, { ok: true }>, guessed: boolean): never => {
          if (guessed) log.warn({ from: req.socket.remoteAddress, status: v.status }, `adoption refused: ${v.error}`);
          throw new HttpRefusal(v.status, v.error, v.next, v.retryAfterS ? { 'retry-after': String(v.retryAfterS) } : { 'www-authenticate': 'Pairing-Code' });
        };
        const sealedForm = !!body && typeof body === 'object' && 'sealed' in body;
        if (sealedForm) {
          // Sealed with the pairing code: only an unadopted node opens one; a request that does not open is a wrong code.
          if (agent.adopted) throw new HttpRefusal(400, 'this node is adopted: a sealed adoption is for new nodes', 'its own fleet re-adopts it with its token; to give it to another fleet, reset it on the node: kuroko node agent --reset');
          const s = checkAgentPayload('SealedAdopt', body);
          if (!s.ok) throw new HttpRefusal(400, `sealed adopt request: ${s.error}`);
          const opened = await agent.pairing.open(s.value.sealed, sealContext(agent.info().name));
          if (!opened.ok) refuse(opened, true);
          try { body = JSON.parse((opened as { plaintext: string }).plaintext); } catch { throw new HttpRefusal(400, 'the sealed adopt request holds no JSON'); }
        }
        const c = checkAgentPayload('AdoptRequest', body);
        if (!c.ok) throw new HttpRefusal(400, `adopt request: ${c.error}`);
        if (!agent.adopted && !sealedForm) {
          // Unadopted: whoever adopts must show the code printed on the node (pairing.ts).
          const v = agent.pairing.check(c.value.pairingCode);
          if (!v.ok) refuse(v, c.value.pairingCode !== undefined);
        }
        return ndjson(res, (sink) => agent.adopt(c.value, sink));
      }
      case 'update': {
        const n = declaredLength(req, o.maxBundleBytes, 'a release bundle');
        if (n === 0) throw new HttpRefusal(400, 'the request carries no bundle');
        const health = url.searchParams.get('health');
        const healthS = health === null ? undefined : Number(health);
        if (healthS !== undefined && !(Number.isFinite(healthS) && healthS >= 1 && healthS <= 3600)) throw new HttpRefusal(400, `health=${health}: give the health timeout in seconds, 1..3600`);
        const dir = mkdtempSync(join(tmpdir(), 'kuroko-bundle-'));
        const file = join(dir, 'bundle.tar');
        try {
          await pipeline(req, limiter(n), createWriteStream(file));
          return await ndjson(res, (sink) => agent.update(file, url.searchParams.get('force') === '1', sink, healthS === undefined ? undefined : healthS * 1000));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      case 'rollback':
        return ndjson(res, (sink) => agent.rollback(url.searchParams.get('force') === '1', sink));
    }
  };
  const respond = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: Error) => {
      const status = e instanceof HttpRefusal ? e.status : 500;
      if (status === 500) log.error({ err: e.stack }, `agent API: ${e.message}`);
      if (res.headersSent) { res.end(JSON.stringify({ done: true, ok: false, outcome: 'failed', version: null, message: e.message, ms: 0 }) + '\n'); return; }
      // Do not read the rest of a refused upload: answer, then close the connection.
      if (!req.complete) { res.setHeader('connection', 'close'); res.once('finish', () => req.destroy()); }
      if (e instanceof HttpRefusal) for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
      sendJson(res, status, { error: e.message, ...(e instanceof HttpRefusal && e.next ? { next: e.next } : {}) });
    });
  };
  return dualProtocol(createServer(respond), createHttpsServer({}, respond), agent, log);
}

/**
 * One port, both protocols: the first byte of a connection says TLS (a handshake record, 0x16) or
 * plain HTTP. Discovery (GET /v1/info) stays plain for any fleet; the calls that carry the token go
 * over TLS once the agent has its certificate. The returned server is the plain one; closing it
 * closes both.
 */
function dualProtocol(plain: Server, secure: Server & { setSecureContext(o: { cert: string; key: string }): void }, agent: NodeAgent, log: Logger): Server {
  const httpListeners = plain.listeners('connection') as Array<(s: Socket) => void>;
  plain.removeAllListeners('connection');
  let contextOf: string | null = null;
  plain.on('connection', (socket: Socket) => {
    // A connection that never says anything is not kept (the HTTP servers' own timeouts start later).
    socket.setTimeout(10_000, () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      if (first[0] === 0x16) {
        const tls = agent.tlsMaterial();
        if (!tls) { socket.destroy(); return; }
        if (contextOf !== tls.cert) {
          try { secure.setSecureContext(tls); contextOf = tls.cert; } catch (e) { log.error(`agent HTTPS certificate unusable: ${(e as Error).message}`); socket.destroy(); return; }
        }
        secure.emit('connection', socket);
      } else {
        for (const l of httpListeners) l.call(plain, socket);
      }
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => undefined);
  });
  const closeAll = plain.closeAllConnections.bind(plain);
  plain.closeAllConnections = () => { closeAll(); secure.closeAllConnections(); };
  plain.on('close', () => secure.close());
  return plain;
}
