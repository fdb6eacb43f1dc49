/**
 * Adoption needs the node's pairing code. The fleet seals its request with the code (the code,
 * the token and the credentials never cross the network readable). The code itself (made once, 0600, normalised, wrong
 * tries counted, lock-out that doubles and survives a restart, renewed on the node); the agent's
 * real HTTP API on loopback (no code, wrong codes, lock-out with Retry-After, the right code
 * refused while locked, a node adopted by one fleet refusing another even with the code); and the
 * real processes: `kuroko node agent` prints its code, `kuroko fleet adopt --code` with a wrong one
 * is refused with what to do, `--code-file` is accepted, `kuroko node pairing-code --new` unlocks.
 * No hub and no node process here: the refusals happen before adoption does anything; what an
 * accepted code leads to, up to a node in the show, is in agent.test.ts and fleet-netns.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import getPort from 'get-port';
import { NodeAgent } from '../../edge/agent/agent.ts';
import { createAgentServer } from '../../edge/agent/http-api.ts';
import { releaseFormat } from '../../edge/agent/bundle-format.ts';
import { AgentStateStore, sha256Hex } from '../../edge/agent/agent-state.ts';
import { Pairing, normalizeCode, PAIRING_MAX_TRIES } from '../../edge/agent/pairing.ts';
import { openWithCode, sealContext, sealWithCode } from '../../protocol/pairing-seal.ts';
import type { AgentAddress } from '../../hub/fleet/agent-client.ts';
import { adoptDuringWindow } from '../../hub/fleet/commands.ts';
import { FleetStore } from '../../hub/fleet/store.ts';
import { NoCredentials } from '../../hub/fleet/credentials.ts';
import { KUROKO, SIM_PROFILE, stopChild, waitFor } from '../helpers/stage.ts';

const log = pino({ level: 'silent' });
const run = promisify(execFile);
const CODE_RE = /^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/;
const TOKEN = 'fleet-token-0123456789abcdef';

describe('the pairing code', () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'kuroko-pairing-')); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is made once, kept readable by its owner only, and read back the same after a restart', () => {
    const p = new Pairing(join(dir, 'a'));
    const code = p.ensureCode();
    expect(code).toMatch(CODE_RE);
    expect(statSync(p.codeFile).mode & 0o777).toBe(0o600);
    expect(new Pairing(join(dir, 'a')).ensureCode()).toBe(code);
    expect(p.check(normalizeCode(code).toLowerCase())).toEqual({ ok: true });
    expect(p.check(` ${code.replace('-', ' ')} `)).toEqual({ ok: true });
  });

  it('counts wrong codes, not missing ones; locks after five, longer each time; a restart keeps the lock; renewing clears it', () => {
    let now = 1_000_000;
    const agentDir = join(dir, 'b');
    const p = new Pairing(agentDir, { lockMs: 60_000, now: () => now });
    const code = p.ensureCode();
    const wrong = code === 'ZZZZ-ZZZZ' ? 'YYYY-YYYY' : 'ZZZZ-ZZZZ';
    for (let i = 0; i < 10; i++) expect(p.check(undefined)).toMatchObject({ ok: false, status: 401, error: 'this node needs its pairing code to be adopted' });
    for (let i = 1; i < PAIRING_MAX_TRIES; i++) {
      expect(p.check(wrong)).toMatchObject({ ok: false, status: 401, error: `wrong pairing code (${PAIRING_MAX_TRIES - i} ${PAIRING_MAX_TRIES - i === 1 ? 'try' : 'tries'} left before adoption locks)` });
    }
    expect(p.check(wrong)).toMatchObject({ ok: false, status: 429, retryAfterS: 60, error: 'wrong pairing code; adoption is now locked for 60 s (5 wrong codes)' });
    // Locked: the right code too, and after an agent restart.
    expect(p.check(code)).toMatchObject({ ok: false, status: 429, retryAfterS: 60 });
    now += 30_000;
    expect(new Pairing(agentDir, { lockMs: 60_000, now: () => now }).check(code)).toMatchObject({ ok: false, status: 429, retryAfterS: 30, next: expect.stringMatching(/kuroko node pairing-code --new/) });
    now += 30_001;
    expect(p.check(code)).toEqual({ ok: true });
    // The next five wrong codes lock for twice as long.
    for (let i = 0; i < PAIRING_MAX_TRIES - 1; i++) p.check(wrong);
    expect(p.check(wrong)).toMatchObject({ status: 429, retryAfterS: 120 });
    const fresh = p.renew();
    expect(fresh).toMatch(CODE_RE);
    expect(p.check(fresh)).toEqual({ ok: true });
    if (fresh !== code) expect(p.check(code)).toMatchObject({ status: 401 });
  });

  it('seals an adoption request so that only the code opens it, for that agent only, with nothing readable on the wire', async () => {
    const plain = JSON.stringify({ token: 'fleet-token-0123456789abcdef', credentials: { 'kuroko-access.json': '{"password":"hunter2-hunter2"}' } });
    const sealed = await sealWithCode('K7QM-4XPD', plain, sealContext('robot-a'));
    const wire = JSON.stringify(sealed);
    for (const secret of ['fleet-token', 'hunter2', 'K7QM', '4XPD']) expect(wire).not.toContain(secret);
    expect(await openWithCode('k7qm 4xpd', sealed, sealContext('robot-a'))).toBe(plain);
    expect(await openWithCode('K7QM-4XPE', sealed, sealContext('robot-a'))).toBeNull();
    expect(await openWithCode('K7QM-4XPD', sealed, sealContext('robot-b'))).toBeNull();
    expect(await openWithCode('K7QM-4XPD', { ...sealed, data: Buffer.from('x'.repeat(40)).toString('base64') }, sealContext('robot-a'))).toBeNull();
  });

  it('a damaged lock file keeps adoption locked, and consume() uses the code up', () => {
    const agentDir = join(dir, 'c');
    const p = new Pairing(agentDir);
    const code = p.ensureCode();
    writeFileSync(join(agentDir, 'pairing-lock.json'), '{not json');
    expect(p.check(code)).toMatchObject({ ok: false, status: 429 });
    p.renew();
    p.consume();
    expect(p.code()).toBeNull();
    expect(p.check('ABCD-EFGH')).toMatchObject({ ok: false, status: 401, error: expect.stringMatching(/no pairing code yet/) });
  });
});

function post(a: AgentAddress, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request({ host: a.host, port: a.port, method: 'POST', path, headers: { 'content-type': 'application/json', 'content-length': payload.length, ...headers } }, (res) => {
      let t = '';
      res.on('data', (d) => (t += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: t }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

function getText(a: AgentAddress, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: a.host, port: a.port, path }, (res) => { let t = ''; res.on('data', (d) => (t += d)); res.on('end', () => resolve(t)); }).on('error', reject).end();
  });
}

describe('the agent API asks for the pairing code', () => {
  let work: string;
  const servers: Array<{ server: Server; agent: NodeAgent }> = [];
  const profile = readFileSync(SIM_PROFILE, 'utf8');
  const request_ = (extra: Record<string, unknown> = {}) => ({ v: 1, nodeId: 'ann', show: 'quick', broker: 'mqtt://127.0.0.1:1', profile, token: TOKEN, ...extra });

  const startAgent = async (name: string): Promise<{ agent: NodeAgent; addr: AgentAddress }> => {
    const agent = new NodeAgent({ dir: join(work, name), name, format: releaseFormat(), healthTimeoutMs: 5000, edgeArgs: [], log, pairing: { lockMs: 60_000 } });
    await agent.start();
    const server = createAgentServer({ agent, log, maxBundleBytes: 1024 * 1024 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    servers.push({ server, agent });
    return { agent, addr: { host: '127.0.0.1', port: (server.address() as { port: number }).port } };
  };

  beforeAll(() => { work = mkdtempSync(join(tmpdir(), 'kuroko-pairing-api-')); });
  afterAll(async () => {
    for (const s of servers) { s.server.close(); s.server.closeAllConnections(); await s.agent.stop(); }
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses an adoption without the code or with wrong ones, then locks, even for the right code', async () => {
    const { agent, addr } = await startAgent('robot-a');
    const code = agent.pairingCode()!;
    expect(code).toMatch(CODE_RE);
    // Nothing the agent answers carries the code.
    expect(await getText(addr, '/v1/info')).not.toContain(code.slice(0, 4));

    let r = await post(addr, '/v1/adopt', request_());
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Pairing-Code');
    expect(JSON.parse(r.text)).toMatchObject({ error: 'this node needs its pairing code to be adopted', next: expect.stringMatching(/pairing-code on the node.*--code CODE/) });
    for (let left = 4; left >= 1; left--) {
      r = await post(addr, '/v1/adopt', request_({ pairingCode: 'WRNG-CODE' }));
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text).error).toBe(`wrong pairing code (${left} ${left === 1 ? 'try' : 'tries'} left before adoption locks)`);
    }
    r = await post(addr, '/v1/adopt', request_({ pairingCode: 'WRNG-CODE' }));
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBe('60');
    expect(JSON.parse(r.text).error).toBe('wrong pairing code; adoption is now locked for 60 s (5 wrong codes)');
    r = await post(addr, '/v1/adopt', request_({ pairingCode: code }));
    expect(r.status).toBe(429);
    expect(JSON.parse(r.text).error).toMatch(/^adoption locked for (59|60) s after 5 wrong pairing codes$/);
    // Nothing was adopted by any of it.
    expect(agent.adopted).toBe(false);
  });

  it('counts a sealed request that does not open as a wrong code, and takes one sealed with the right code', async () => {
    const { agent, addr } = await startAgent('robot-s');
    const inner = JSON.stringify(request_());
    let r = await post(addr, '/v1/adopt', { v: 1, sealed: await sealWithCode('WRNG-CODE', inner, sealContext('robot-s')) });
    expect(r.status).toBe(401);
    expect(JSON.parse(r.text).error).toBe('wrong pairing code (4 tries left before adoption locks)');
    // Sealed for another computer's name: does not open here either.
    r = await post(addr, '/v1/adopt', { v: 1, sealed: await sealWithCode(agent.pairingCode()!, inner, sealContext('robot-x')) });
    expect(JSON.parse(r.text).error).toBe('wrong pairing code (3 tries left before adoption locks)');
    r = await post(addr, '/v1/adopt', { v: 1, sealed: await sealWithCode(agent.pairingCode()!, inner, sealContext('robot-s')) });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text.trim().split('\n').at(-1)!)).toMatchObject({ outcome: 'refused', message: 'no release is installed on this node' });
  });

  it('takes the right code (adoption then goes on to its own checks)', async () => {
    const { agent, addr } = await startAgent('robot-b');
    const r = await post(addr, '/v1/adopt', request_({ pairingCode: agent.pairingCode()!.toLowerCase() }));
    expect(r.status).toBe(200);
    // Past the code: this computer has no release yet, which the adoption itself refuses.
    expect(JSON.parse(r.text.trim().split('\n').at(-1)!)).toMatchObject({ done: true, ok: false, outcome: 'refused', message: 'no release is installed on this node' });
  });

  it('a node adopted by one fleet refuses another, even with its old code; its own fleet passes with the token', async () => {
    const dir = join(work, 'robot-c');
    const first = new Pairing(join(dir, 'agent'));
    const oldCode = first.ensureCode();
    new AgentStateStore(join(dir, 'agent')).update({ adoption: { nodeId: 'cat', show: 'quick', broker: 'mqtt://127.0.0.1:1', tokenSha256: sha256Hex(TOKEN), adoptedAt: Date.now() } });
    const { agent, addr } = await startAgent('robot-c');
    expect(agent.pairingCode()).toBeNull();
    let r = await post(addr, '/v1/adopt', request_({ pairingCode: oldCode }));
    expect(r.status).toBe(403);
    expect(JSON.parse(r.text)).toMatchObject({ error: 'node cat is adopted: this needs the fleet\'s token for it', next: expect.stringMatching(/kuroko node agent --reset/) });
    r = await post(addr, '/v1/adopt', request_({ pairingCode: oldCode }), { authorization: 'Bearer not-the-token-not-the-token' });
    expect(r.status).toBe(403);
    r = await post(addr, '/v1/adopt', { v: 1, sealed: await sealWithCode(oldCode, JSON.stringify(request_()), sealContext('robot-c')) });
    expect(r.status).toBe(403);
    // Even its own fleet re-adopts with the token, not with a code.
    r = await post(addr, '/v1/adopt', { v: 1, sealed: await sealWithCode(oldCode, JSON.stringify(request_()), sealContext('robot-c')) }, { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).error).toBe('this node is adopted: a sealed adoption is for new nodes');
    r = await post(addr, '/v1/adopt', request_(), { authorization: `Bearer ${TOKEN}` });
    expect(r.status).toBe(200);
  });

  it('a plan entry without a name tries its code on each new computer once, and takes the one it belongs to', async () => {
    const one = await startAgent('robot-d');
    const two = await startAgent('robot-e');
    const said: string[] = [];
    // robot-e is "powered on" a little later (the window reads its address list every round), so robot-d is always tried first.
    const addresses = [one.addr];
    setTimeout(() => addresses.push(two.addr), 1500);
    const figures = await adoptDuringWindow({
      store: new FleetStore(join(work, 'fleet')), show: 'quick', broker: 'mqtt://127.0.0.1:1', windowMs: 30_000, static: addresses, mdns: false,
      credentials: new NoCredentials(), say: (l) => said.push(l),
      plan: [{ node: 'eve', profileFile: SIM_PROFILE, profileText: profile, code: two.agent.pairingCode()! }],
    });
    // robot-e took it (and went on to its own first check: no release here); robot-d lost one try, no more.
    expect(figures, said.join('\n')).toEqual([expect.objectContaining({ node: 'eve', ok: false, message: 'no release is installed on this node' })]);
    expect(said.join('\n')).toMatch(/\[eve\] robot-d did not take the code of eve \(wrong pairing code \(4 tries left before adoption locks\)\): another computer's; waiting for the next new one/);
    expect(said.filter((l) => l.startsWith('[eve] adopting robot-d'))).toHaveLength(1);
    expect(said.join('\n')).toMatch(/\[eve\] adopting robot-e/);
  });
});

describe('pairing with the real commands', () => {
  let work: string;
  let agent: ChildProcess;
  let out = '';
  let port: number;
  const fleet = (args: string[]) => run(process.execPath, [KUROKO, 'fleet', 'adopt', '--no-mdns', '--static', `127.0.0.1:${port}`, '--name', 'robot-p', '--node', 'pat', '--profile', SIM_PROFILE, '--show', 'quick', '--broker', 'mqtt://127.0.0.1:1', '--time', '20', '--fleet-dir', join(work, 'fleet'), ...args], { timeout: 60_000 })
    .then((r) => ({ code: 0, out: r.stdout + r.stderr }), (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }));

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kuroko-pairing-cli-'));
    port = await getPort();
    agent = spawn(process.execPath, [KUROKO, 'node', 'agent', '--dir', join(work, 'node'), '--name', 'robot-p', '--bind', '127.0.0.1', '--port', String(port), '--no-mdns'], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (d) => (out += d));
    agent.stderr!.on('data', (d) => (out += d));
    await waitFor('the agent\'s pairing code on its console', () => /pairing code [A-Z0-9]{4}-[A-Z0-9]{4}/.test(out), 60_000, 50);
  }, 90_000);
  afterAll(async () => {
    if (agent) await stopChild(agent);
    rmSync(work, { recursive: true, force: true });
  });

  it('the agent prints its code and keeps it in a file only its user reads; fleet adopt refuses a wrong code, takes --code-file, and pairing-code --new unlocks', async () => {
    const code = /pairing code ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(out)![1]!;
    const file = join(work, 'node', 'agent', 'pairing-code');
    expect(readFileSync(file, 'utf8').trim()).toBe(code);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    let r = await fleet(['--code', 'WRNG-CODE']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/\[pat\] FAILED wrong pairing code \(4 tries left before adoption locks\)\n\[pat\]\s+next: read the code on the robot \(.*pairing-code on the node/);
    expect(r.out).not.toContain(code);
    // Past the code, the adoption's own first check: this computer has no release.
    r = await fleet(['--code-file', file]);
    expect(r.out).toMatch(/\[pat\] REFUSED no release is installed on this node/);

    // Locked out by four more wrong codes; renewing on the node unlocks with a new code.
    const body = { v: 1, nodeId: 'pat', show: 'quick', broker: 'mqtt://127.0.0.1:1', profile: readFileSync(SIM_PROFILE, 'utf8'), token: TOKEN, pairingCode: 'WRNG-CODE' };
    for (let i = 0; i < 4; i++) await post({ host: '127.0.0.1', port }, '/v1/adopt', body);
    r = await fleet(['--code-file', file]);
    expect(r.out).toMatch(/\[pat\] FAILED adoption locked for \d+ s after 5 wrong pairing codes/);
    const renewed = await run(process.execPath, [KUROKO, 'node', 'pairing-code', '--dir', join(work, 'node'), '--new']);
    expect(renewed.stdout.trim()).toMatch(CODE_RE);
    expect(renewed.stdout.trim()).toBe(readFileSync(file, 'utf8').trim());
    r = await fleet(['--code', renewed.stdout.trim()]);
    expect(r.out).toMatch(/\[pat\] REFUSED no release is installed on this node/);
  }, 240_000);
});
