/**
 * The page's security, attacked over real HTTP and WebSocket connections to a real web server and
 * hub (started on a free port with its journal in a temp dir, no nodes; the e-stop needs its
 * ledger, which start() opens): cross-origin
 * control refused, token guessing locked out with a growing back-off, roles, the token gone from
 * the address, /metrics behind its own token, and the page protocol checked both ways.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { WebSocket } from 'ws';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { startWebServer, type WebServer } from '../../hub/web/server.ts';
import { LockOut } from '../../hub/web/access.ts';
import { serverMessageProblem } from '../../hub/web/page-protocol-check.ts';
import { sleep } from '../helpers/wait.ts';
import getPort from 'get-port';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOKEN = 'operator-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
const METRICS = 'metrics-token-0123456789';
let hub: Hub;
let web: WebServer;
let journalDir: string;

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), 'kuroko-web-security-'));
  hub = new Hub({ show: loadShow('test/web/fixtures/stage.yaml'), port: await getPort(), journalDir, logger: pino({ level: 'silent' }) });
  await hub.start();
  web = await startWebServer(hub, {
    port: 0, host: '127.0.0.1', token: TOKEN, viewerToken: VIEWER, metricsToken: METRICS,
    lockOut: new LockOut({ free: 5, baseMs: 300, maxMs: 5000, globalFree: 1000 }),
  });
}, 30000);
afterAll(async () => { await web?.close(); await hub?.stop(); rmSync(journalDir, { recursive: true, force: true }); });

const origin = () => web.url.replace('localhost', '127.0.0.1');
async function login(token: string, headers: Record<string, string> = { origin: origin() }): Promise<Response> {
  return fetch(`${origin()}/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ token }) });
}
async function cookieOf(token: string): Promise<string> {
  const r = await login(token);
  expect(r.status).toBe(200);
  return r.headers.get('set-cookie')!.split(';')[0]!;
}
/** Opens /ws; resolves with the first message, or the HTTP status the upgrade was refused with. */
function openWs(headers: Record<string, string>): Promise<{ ws?: WebSocket; first?: Record<string, unknown>; status?: number; all: Record<string, unknown>[] }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${origin().replace('http', 'ws')}/ws`, { headers });
    const all: Record<string, unknown>[] = [];
    ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode, all }));
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      all.push(m);
      if (all.length === 1) resolve({ ws, first: m, all });
    });
    ws.on('error', () => undefined);
  });
}
function reply(ws: WebSocket, all: Record<string, unknown>[], msg: object): Promise<Record<string, unknown>> {
  const ref = Math.floor(Math.random() * 1e9);
  ws.send(JSON.stringify({ ...msg, ref }));
  return new Promise((resolve) => {
    const t = setInterval(() => { const r = all.find((m) => m.type === 'reply' && (m.ref === ref || m.ref === null)); if (r) { clearInterval(t); resolve(r); } }, 10);
  });
}

describe('page security', () => {
  it('log-in through the printed address leaves no token in it: an HttpOnly SameSite cookie instead', async () => {
    const r = await fetch(`${origin()}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(TOKEN);
    const wrong = await fetch(`${origin()}/?token=wrong-token-123`, { redirect: 'manual' });
    expect(wrong.headers.get('location')).toBe('/?login=wrong');
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('refuses a cross-origin WebSocket and a cross-origin log-in, even with the right token', async () => {
    const cookie = await cookieOf(TOKEN);
    const evil = await openWs({ origin: 'http://evil.example', cookie });
    expect(evil.status).toBe(403);
    const none = await openWs({ cookie });
    expect(none.status).toBe(403);
    const evilLogin = await login(TOKEN, { origin: 'http://evil.example' });
    expect(evilLogin.status).toBe(403);
    expect(evilLogin.headers.get('set-cookie')).toBeNull();
    expect(hub.estopActive).toBe(false);
  });

  it('an operator acts; a viewer watches and every control is refused; no log-in, no stage', async () => {
    const op = await openWs({ origin: origin(), cookie: await cookieOf(TOKEN) });
    expect(op.first).toMatchObject({ type: 'hello', role: 'operator' });
    const viewer = await openWs({ origin: origin(), cookie: await cookieOf(VIEWER) });
    expect(viewer.first).toMatchObject({ type: 'hello', role: 'viewer' });
    const r = await reply(viewer.ws!, viewer.all, { type: 'command', command: 'estop' });
    expect(r).toMatchObject({ ok: false, message: expect.stringContaining('read-only view') });
    expect(hub.estopActive).toBe(false);
    const ok = await reply(op.ws!, op.all, { type: 'command', command: 'estop' });
    expect(ok).toMatchObject({ ok: true });
    expect(hub.estopActive).toBe(true);
    await reply(op.ws!, op.all, { type: 'command', command: 'release' });
    // Malformed and unknown messages are refused in words, never run.
    const bad = await reply(op.ws!, op.all, { type: 'command', command: 'self-destruct' });
    expect(bad).toMatchObject({ ok: false, message: expect.stringContaining('did not understand') });
    // Everything the hub sent matches the page protocol.
    for (const m of [...op.all, ...viewer.all]) expect(serverMessageProblem(m), JSON.stringify(m).slice(0, 200)).toBeNull();
    const anon = await openWs({ origin: origin() });
    expect(anon.first).toMatchObject({ type: 'refused' });
    expect(anon.all.some((m) => m.type === 'hello')).toBe(false);
    op.ws!.close(); viewer.ws!.close();
    // After log-out the cookie is worth nothing.
    const cookie = await cookieOf(TOKEN);
    await fetch(`${origin()}/logout`, { method: 'POST', headers: { origin: origin(), cookie } });
    expect((await openWs({ origin: origin(), cookie })).first).toMatchObject({ type: 'refused' });
  });

  it('locks a token guesser out with a growing back-off; even the right token waits', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await login(`guess-${i}-000000`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    const locked = await login(TOKEN);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await locked.json()).error).toContain('too many wrong tokens');
    // The back-off ends; one more wrong guess doubles it.
    await sleep(350);
    expect((await login('guess-again-000000')).status).toBe(401);
    const wait1 = Number((await (await login(TOKEN)).json()).retryAfterMs);
    expect(wait1).toBeGreaterThan(350);
    await sleep(wait1 + 50);
    expect((await login(TOKEN)).status).toBe(200);
  });

  it('/metrics needs its own token; the favicon is there', async () => {
    expect((await fetch(`${origin()}/metrics`)).status).toBe(401);
    expect((await fetch(`${origin()}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401);
    const m = await fetch(`${origin()}/metrics`, { headers: { authorization: `Bearer ${METRICS}` } });
    expect(m.status).toBe(200);
    expect(await m.text()).toContain('kuroko_nodes_online');
    const icon = await fetch(`${origin()}/favicon.ico`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/x-icon');
    const js = await fetch(`${origin()}/app.js`);
    expect(js.status).toBe(200);
    expect(await js.text()).toContain('/login');
    expect((await fetch(`${origin()}/transcript.srt`)).status).toBe(401);
  });
});
