/**
 * The page's log-in wired to the show's credentials store, and the audit trail, over real HTTP,
 * WebSocket and UDP to a real web server, OSC server and a started hub (its embedded broker
 * secured by the same store; no nodes), with a real store (scrypt, CA) and journal in a temp dir: an operator's password logs in as operator, a viewer's as viewer, a node's or the hub's
 * never; sessions survive a restart and end on rotate/revoke; every page and OSC control, and every
 * log-in, is journaled with who.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { WebSocket } from 'ws';
import { pino } from 'pino';
import osc, { type OscMessage } from 'osc';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import getPort from 'get-port';
import { readJournal } from '../../hub/journal.ts';
import { AccessStore } from '../../hub/access/store.ts';
import { startWebServer, type WebServer } from '../../hub/web/server.ts';
import { LockOut } from '../../hub/web/access.ts';
import { OscServer } from '../../hub/osc/server.ts';
import { AllowList } from '../../hub/osc/allow-list.ts';
import { commandsOf, stageStateOf } from '../../hub/osc/hub-adapter.ts';
import { waitFor } from '../helpers/wait.ts';

const TOKEN = 'operator-token-0123456789';
let dir: string;
let store: AccessStore;
let hub: Hub;
let web: WebServer;
const pw = (id: string) => store.readBundle(id).password;

async function serve(token = TOKEN): Promise<WebServer> {
  return startWebServer(hub, { port: 0, host: '127.0.0.1', token, store, lockOut: new LockOut({ free: 50, baseMs: 10, maxMs: 50, globalFree: 1000 }) });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kuroko-store-login-'));
  store = await AccessStore.init(join(dir, 'access'), 'webtest', ['alice', 'bob', 'carol', 'dave']);
  await store.add('viewer-2', 'viewer');
  hub = new Hub({ show: loadShow('test/web/fixtures/stage.yaml'), port: await getPort(), journalDir: join(dir, 'journal'), logger: pino({ level: 'silent' }), security: { store, tlsPort: null } });
  await hub.start();
  web = await serve();
}, 60000);
afterAll(async () => {
  await web?.close();
  await hub?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const base = (w = web) => w.url.replace('localhost', '127.0.0.1');
async function login(secret: string, w = web): Promise<Response> {
  return fetch(`${base(w)}/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base(w) }, body: JSON.stringify({ token: secret }) });
}
/** The session cookie's value (the name carries the port). */
async function sessionOf(secret: string): Promise<string> {
  const r = await login(secret);
  expect(r.status).toBe(200);
  return r.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!;
}
function openWs(w: WebServer, session: string): Promise<{ ws: WebSocket; all: Record<string, unknown>[]; closed: Promise<number> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base(w).replace('http', 'ws')}/ws`, { headers: { origin: base(w), cookie: `kuroko_session_${w.port}=${session}` } });
    const all: Record<string, unknown>[] = [];
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('message', (d) => { all.push(JSON.parse(d.toString())); if (all.length === 1) resolve({ ws, all, closed }); });
    ws.on('error', () => undefined);
  });
}
async function control(c: { ws: WebSocket; all: Record<string, unknown>[] }, msg: object): Promise<Record<string, unknown>> {
  const ref = Math.floor(Math.random() * 1e9);
  c.ws.send(JSON.stringify({ ...msg, ref }));
  await waitFor('reply', () => c.all.some((m) => m.type === 'reply' && m.ref === ref));
  return c.all.find((m) => m.type === 'reply' && m.ref === ref)!;
}
const audits = () => readJournal(hub.journal!.file).filter((r) => r.type === 'audit') as unknown as Array<{ action: string; by: string; role: string; ok: boolean; detail?: string; args?: Record<string, unknown> }>;

describe('page log-in with the show credentials store', () => {
  it("an operator's password logs in as that operator, and what it does is journaled with its name", async () => {
    const r = await login(pw('operator'));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ role: 'operator', id: 'operator' });
    const op = await openWs(web, r.headers.get('set-cookie')!.split(';')[0]!.split('=')[1]!);
    expect(op.all[0]).toMatchObject({ type: 'hello', role: 'operator' });
    expect(await control(op, { type: 'command', command: 'estop' })).toMatchObject({ ok: true });
    expect(hub.estopActive).toBe(true);
    expect(await control(op, { type: 'command', command: 'release' })).toMatchObject({ ok: true });
    expect(await control(op, { type: 'command', command: 'scene/start', args: { scene: 'one' } })).toMatchObject({ type: 'reply' });
    // A curator decision: the line waits for the operator, who vetoes it.
    hub.curator.enabled = true;
    const decided = hub.curator.submit({ character: 'alice', text: 'A generated line.' });
    const [waiting] = hub.curator.pending();
    expect(await control(op, { type: 'curate', id: waiting!.id, decision: 'vetoed' })).toMatchObject({ ok: true });
    expect(await decided).toBe('vetoed');
    hub.curator.enabled = false;
    op.ws.close();
    const a = audits();
    expect(a).toContainEqual(expect.objectContaining({ action: 'page login', by: 'operator', role: 'operator', ok: true, detail: 'from 127.0.0.1' }));
    expect(a).toContainEqual(expect.objectContaining({ action: 'estop', by: 'operator', role: 'operator', ok: true }));
    expect(a).toContainEqual(expect.objectContaining({ action: 'release', by: 'operator', role: 'operator' }));
    expect(a).toContainEqual(expect.objectContaining({ action: 'scene/start', by: 'operator', args: { scene: 'one' } }));
    expect(a).toContainEqual(expect.objectContaining({ action: 'curate vetoed', by: 'operator', role: 'operator', ok: true, args: { line: waiting!.id } }));
    // Journaled once, by the page with who, not again as an anonymous settle.
    expect(a.filter((r) => r.action === 'curate vetoed')).toHaveLength(1);
    // "ID:PASSWORD" names the identity; the control token still logs in, as "token".
    expect(await (await login(`operator:${pw('operator')}`)).json()).toEqual({ role: 'operator', id: 'operator' });
    expect(await (await login(TOKEN)).json()).toEqual({ role: 'operator', id: 'token' });
  });

  it("a viewer's password logs in as viewer: controls refused, and the refusal journaled", async () => {
    expect(await (await login(pw('viewer-2'))).json()).toEqual({ role: 'viewer', id: 'viewer-2' });
    const v = await openWs(web, await sessionOf(pw('viewer')));
    expect(v.all[0]).toMatchObject({ type: 'hello', role: 'viewer' });
    expect(await control(v, { type: 'command', command: 'go' })).toMatchObject({ ok: false, message: expect.stringContaining('read-only view') });
    expect(await control(v, { type: 'command', command: 'estop' })).toMatchObject({ ok: false });
    expect(hub.estopActive).toBe(false);
    v.ws.close();
    expect(audits()).toContainEqual(expect.objectContaining({ action: 'go', by: 'viewer', role: 'viewer', ok: false }));
  });

  it("a node's or the hub's password never logs in to the page; failures are journaled with the source", async () => {
    const before = audits().filter((a) => a.action === 'page login' && !a.ok).length;
    for (const secret of [pw('alice'), pw('hub'), `alice:${pw('alice')}`, 'not-a-password-at-all']) {
      const r = await login(secret);
      expect(r.status, secret).toBe(401);
      expect(r.headers.get('set-cookie')).toBeNull();
    }
    const failed = audits().filter((a) => a.action === 'page login' && !a.ok);
    expect(failed.length - before).toBe(4);
    expect(failed.at(-1)).toMatchObject({ by: 'unknown', detail: 'from 127.0.0.1' });
  });

  it('a restarted hub (new control token) keeps store sessions; rotate and revoke end them after the store is reread', async () => {
    const opSession = await sessionOf(pw('operator'));
    const viewerSession = await sessionOf(pw('viewer-2'));
    const tokenSession = await sessionOf(TOKEN);
    await web.close();
    web = await serve('another-token-0123456789');
    expect((await openWs(web, opSession)).all[0]).toMatchObject({ type: 'hello', role: 'operator' });
    expect((await openWs(web, viewerSession)).all[0]).toMatchObject({ type: 'hello', role: 'viewer' });
    // The control token changed: its sessions end.
    expect((await openWs(web, tokenSession)).all[0]).toMatchObject({ type: 'refused' });

    const live = await openWs(web, opSession);
    const liveViewer = await openWs(web, viewerSession);
    // `kuroko access rotate` / `revoke` in another process, then the hub rereads the store (SIGHUP).
    const cli = AccessStore.load(store.dir);
    await cli.rotate('operator');
    cli.revoke('viewer-2');
    store.reload();
    expect(web.revalidate()).toBeGreaterThanOrEqual(2);
    expect(await live.closed).toBe(4401);
    expect(await liveViewer.closed).toBe(4401);
    expect((await openWs(web, opSession)).all[0]).toMatchObject({ type: 'refused' });
    expect((await openWs(web, viewerSession)).all[0]).toMatchObject({ type: 'refused' });
    // The new password works; the revoked identity's does not.
    expect((await login(store.readBundle('operator').password)).status).toBe(200);
    expect((await login(pw('viewer'))).status).toBe(200);
  }, 30000);
});

describe('OSC commands in the journal', () => {
  it('each OSC command, run or refused, is journaled as osc:ADDRESS with the operator role', async () => {
    const server = new OscServer({ show: 'webtest', allowArm: false, port: 0, host: '127.0.0.1', allow: new AllowList(['127.0.0.1']), commands: commandsOf(hub), state: stageStateOf(hub) });
    await server.start();
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const replies: unknown[][] = [];
    s.on('message', (d) => { const m = osc.readPacket(d, { metadata: true }) as OscMessage; if (m.address.endsWith('/reply')) replies.push(m.args.map((a) => a.value)); });
    const send = (address: string) => s.send(Buffer.from(osc.writePacket({ address, args: [] }, { metadata: true })), server.port, '127.0.0.1');
    try {
      send('/kuroko/webtest/stop');
      await waitFor('stop answered', () => replies.length === 1);
      send('/kuroko/webtest/arm');
      await waitFor('arm answered', () => replies.length === 2);
    } finally {
      s.close();
      await server.close();
    }
    const a = audits();
    expect(a).toContainEqual(expect.objectContaining({ action: 'stop', by: 'osc:127.0.0.1', role: 'operator' }));
    expect(a).toContainEqual(expect.objectContaining({ action: 'arm', by: 'osc:127.0.0.1', role: 'operator', ok: false, detail: expect.stringContaining('osc:') }));
  });
});
