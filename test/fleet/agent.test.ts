/**
 * The node agent on loopback, in this process, with a real hub (embedded broker) and real node
 * processes: the HTTP API's bounds and refusals, adoption, an update that never becomes ready
 * (rolled back at the health timeout), a bundle signed by a stranger (refused before anything
 * changes), and an update interrupted before its commit (undone when the agent starts again).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { NodeAgent } from '../../edge/agent/agent.ts';
import { createAgentServer } from '../../edge/agent/http-api.ts';
import { releaseFormat } from '../../edge/agent/bundle-format.ts';
import { installFirstRelease } from '../../edge/agent/install.ts';
import { AgentStateStore } from '../../edge/agent/agent-state.ts';
import { Releases } from '../../edge/agent/releases.ts';
import { adopt, getInfo, pushUpdate, rollback, type AgentAddress } from '../../hub/fleet/agent-client.ts';
import type { AgentProgressT } from '../../protocol/agent-api.ts';
import { ROOT } from '../helpers/stage.ts';
import { makeTestBundle, testKeys, type TestKeys } from './test-bundles.ts';

const log = pino({ level: 'silent' });
const TOKEN = 'test-token-0123456789abcdef';

function raw(a: AgentAddress, method: string, path: string, headers: Record<string, string | number> = {}, body?: Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: a.host, port: a.port, method, path, headers }, (res) => {
      let t = '';
      res.on('data', (d) => (t += d));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(t || '{}') as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the node agent', () => {
  let work: string;
  let keys: TestKeys;
  let hub: Hub;
  let agent: NodeAgent;
  let server: Server;
  let addr: AgentAddress;
  const bundles: Record<string, string> = {};

  const startAgent = async (healthS: number) => {
    agent = new NodeAgent({ dir: join(work, 'node'), name: 'bench-pi', format: releaseFormat(), healthTimeoutMs: healthS * 1000, edgeArgs: ['--no-model', '--log-level', 'warn'], log });
    await agent.start();
    server = createAgentServer({ agent, log, maxBundleBytes: 4 * 1024 * 1024 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    addr = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
  };
  const stopAgent = async () => { server.close(); server.closeAllConnections(); await agent.stop(); };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kuroko-agent-'));
    keys = testKeys();
    const stranger = testKeys();
    [bundles.v1, bundles.v2, bundles.hang, bundles.stranger] = await Promise.all([
      makeTestBundle(join(work, 'v1.tar.gz'), '1.0.0', 'working', keys.key),
      makeTestBundle(join(work, 'v2.tar.gz'), '2.0.0', 'working', keys.key),
      makeTestBundle(join(work, 'hang.tar.gz'), '2.1.0', 'never-ready', keys.key),
      makeTestBundle(join(work, 'stranger.tar.gz'), '9.9.9', 'working', stranger.key),
    ]);
    rmSync(stranger.dir, { recursive: true, force: true });
    hub = new Hub({ show: loadShow(join(ROOT, 'test/fixtures/quick-show.yaml')), port: 0, logger: log, journalDir: join(work, 'journal') });
    await hub.start();
    await installFirstRelease(join(work, 'node'), bundles.v1!, readFileSync(keys.publicFile, 'utf8'), releaseFormat(), () => undefined);
    await startAgent(120);
  }, 180_000);

  afterAll(async () => {
    await stopAgent().catch(() => undefined);
    await hub?.stop();
    rmSync(work, { recursive: true, force: true });
    rmSync(keys.dir, { recursive: true, force: true });
  });

  it('refuses unknown requests, wrong methods, oversized and malformed bodies, naming the fix', async () => {
    let r = await raw(addr, 'GET', '/v1/nope');
    expect(r.status).toBe(404);
    expect(r.json.error).toMatch(/unknown request GET \/v1\/nope; this agent answers GET \/v1\/info, POST \/v1\/adopt, POST \/v1\/update, POST \/v1\/rollback/);
    r = await raw(addr, 'DELETE', '/v1/info');
    expect(r.status).toBe(405);
    r = await raw(addr, 'POST', '/v1/adopt', { 'content-type': 'application/json', 'content-length': 10 * 1024 * 1024 });
    expect(r.status).toBe(413);
    expect(r.json.error).toMatch(/larger than this agent's limit of 262144 bytes/);
    const bad = Buffer.from(JSON.stringify({ v: 1, nodeId: 'Bad Id', show: 'quick', broker: 'mqtt://x', profile: '', token: TOKEN }));
    r = await raw(addr, 'POST', '/v1/adopt', { 'content-type': 'application/json', 'content-length': bad.length }, bad);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/adopt request: nodeId: "Bad Id" does not match/);
    r = await raw(addr, 'POST', '/v1/update', { 'content-length': 3 }, Buffer.from('abc'));
    expect(r.status).toBe(409);
    expect(r.json.next).toMatch(/kuroko fleet adopt/);
  });

  it('is adopted, then answers only to the fleet\'s token', async () => {
    const lines: AgentProgressT[] = [];
    const profile = readFileSync(join(ROOT, 'firmware-config/profiles/sim-robot.yaml'), 'utf8');
    const code = agent.pairingCode()!;
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
    const res = await adopt(addr, { v: 1, nodeId: 'ann', show: 'quick', character: 'ann', broker: hub.brokerUrl, profile, token: TOKEN, pairingCode: code }, null, (p) => lines.push(p));
    expect(res, JSON.stringify(lines)).toMatchObject({ ok: true, outcome: 'adopted', version: '1.0.0' });
    expect(lines.map((l) => `${l.step}:${l.status}`)).toEqual(expect.arrayContaining(['profile:ok', 'credentials:ok', 'firmware:skip', 'start:ok']));
    expect(hub.registry.get('ann')?.state).toBe('ready');
    const info = await getInfo(addr);
    expect(info).toMatchObject({ nodeId: 'ann', show: 'quick', state: 'running', nodeState: 'ready', version: '1.0.0' });
    // Adopted: another fleet (no token, a wrong token) is refused.
    await expect(adopt(addr, { v: 1, nodeId: 'ben', show: 'quick', broker: hub.brokerUrl, profile, token: 'x'.repeat(30) }, null, () => undefined)).rejects.toMatchObject({ status: 403 });
    // The pairing code was used up: it is gone from the node and adopts nothing any more.
    expect(existsSync(join(work, 'node', 'agent', 'pairing-code'))).toBe(false);
    expect(agent.pairingCode()).toBeNull();
    await expect(adopt(addr, { v: 1, nodeId: 'ben', show: 'quick', broker: hub.brokerUrl, profile, token: 'x'.repeat(30), pairingCode: code }, null, () => undefined)).rejects.toMatchObject({ status: 403, message: expect.stringMatching(/node ann is adopted: this needs the fleet's token/) });
    await expect(pushUpdate(addr, bundles.v2!, 'wrong-token-wrong-token-wrong', false, () => undefined)).rejects.toThrow(/needs the fleet's token/);
    const big = await raw(addr, 'POST', '/v1/update', { authorization: `Bearer ${TOKEN}`, 'content-length': 5 * 1024 * 1024 });
    expect(big.status).toBe(413);
  }, 180_000);

  it('refuses a bundle signed by a key it does not trust, changing nothing', async () => {
    const lines: AgentProgressT[] = [];
    const res = await pushUpdate(addr, bundles.stranger!, TOKEN, false, (p) => lines.push(p));
    expect(res).toMatchObject({ ok: false, outcome: 'failed', version: '1.0.0' });
    expect(res.message).toMatch(/did not verify/);
    expect(res.next).toMatch(/nothing on the node changed/);
    expect(readlinkSync(join(work, 'node', 'current'))).toBe('releases/1.0.0');
    expect(new Releases(join(work, 'node')).list()).toEqual(['1.0.0']);
  });

  it('rolls back by itself a release that runs but never becomes ready (health timeout)', async () => {
    const lines: AgentProgressT[] = [];
    const t0 = Date.now();
    const res = await pushUpdate(addr, bundles.hang!, TOKEN, false, (p) => lines.push(p), 5);
    expect(res, JSON.stringify(lines)).toMatchObject({ ok: false, outcome: 'rolled-back', version: '1.0.0' });
    expect(res.message).toMatch(/2\.1\.0 was rolled back to 1\.0\.0: not ready with heartbeats within 5 s: last no state from the new process, 0 heartbeats/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5000);
    expect(readlinkSync(join(work, 'node', 'current'))).toBe('releases/1.0.0');
    expect((await getInfo(addr)).nodeState).toBe('ready');
  }, 180_000);

  it('commits a good update, rolls back on request, and undoes an update interrupted before its commit', async () => {
    const up = await pushUpdate(addr, bundles.v2!, TOKEN, false, () => undefined);
    expect(up).toMatchObject({ ok: true, outcome: 'committed', version: '2.0.0' });
    expect((await getInfo(addr))).toMatchObject({ version: '2.0.0', previous: '1.0.0', nodeState: 'ready' });
    const again = await pushUpdate(addr, bundles.v2!, TOKEN, false, () => undefined);
    expect(again.outcome).toBe('unchanged');
    const back = await rollback(addr, TOKEN, false, () => undefined);
    expect(back).toMatchObject({ ok: true, outcome: 'committed', version: '1.0.0' });

    // The agent dies between switch and commit: on its next start, it goes back by itself.
    await stopAgent();
    const dir = join(work, 'node');
    new Releases(dir).switchTo('2.0.0');
    new AgentStateStore(join(dir, 'agent')).update({ pending: { from: '1.0.0', to: '2.0.0', startedAt: Date.now() } });
    await startAgent(120);
    expect(readlinkSync(join(dir, 'current'))).toBe('releases/1.0.0');
    expect((await getInfo(addr)).lastResult).toMatch(/update to 2\.0\.0 was interrupted before its commit: rolled back to 1\.0\.0/);
    writeFileSync(join(work, 'done'), '');
  }, 300_000);
});
