/**
 * The node agent on a secured stage: the hub's embedded broker with a credentials store (user
 * names, passwords, ACLs derived from the channel table, TLS with the show CA). The fleet sends the
 * node's `kuroko access` file with the adoption; the node process runs with it, and the agent logs in
 * with it too, to watch its node's state and heartbeats (the health check) and the show state (the
 * show lock). The adoption commits only if the broker let the agent read them — the ACL derivation
 * (protocol/access.ts, channels marked agentReads) is what this checks, with a real hub, broker and
 * node process. The same rules on Mosquitto are checked in test/access/acl-matrix.test.ts.
 * The fleet also issues the agent an HTTPS certificate from the show CA and pins that CA: after the
 * adoption the token is taken only over TLS, and a stranger's CA or another node's name is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { NodeAgent } from '../../edge/agent/agent.ts';
import { createAgentServer } from '../../edge/agent/http-api.ts';
import { releaseFormat } from '../../edge/agent/bundle-format.ts';
import { installFirstRelease } from '../../edge/agent/install.ts';
import type { NodeWatch } from '../../edge/agent/node-watch.ts';
import { getInfo, rollback, type AgentAddress } from '../../hub/fleet/agent-client.ts';
import { CredentialFolder } from '../../hub/fleet/credentials.ts';
import { FleetStore } from '../../hub/fleet/store.ts';
import { adoptDuringWindow, pinnedAddress, rollbackFleet } from '../../hub/fleet/commands.ts';
import { agentTlsName } from '../../protocol/agent-api.ts';
import type { AccessStore } from '../../hub/access/store.ts';
import { ROOT } from '../helpers/stage.ts';
import { tempStore } from '../helpers/access.ts';
import { makeTestBundle, testKeys, type TestKeys } from './test-bundles.ts';

const log = pino({ level: 'silent' });

describe('the node agent on a secured stage', () => {
  let work: string;
  let keys: TestKeys;
  let store: AccessStore;
  let hub: Hub;
  let agent: NodeAgent;
  let server: Server;
  let addr: AgentAddress;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kuroko-agent-sec-'));
    keys = testKeys();
    const show = loadShow(join(ROOT, 'test/fixtures/quick-show.yaml'));
    const [bundle, s] = await Promise.all([makeTestBundle(join(work, 'v1.tar.gz'), '1.0.0', 'working', keys.key), tempStore('quick', show.cast.map((c) => c.node))]);
    store = s;
    hub = new Hub({ show, port: 0, logger: log, journalDir: join(work, 'journal'), security: { store, tlsPort: 0, tlsHost: '127.0.0.1' } });
    await hub.start();
    await installFirstRelease(join(work, 'node'), bundle, readFileSync(keys.publicFile, 'utf8'), releaseFormat(), () => undefined);
    agent = new NodeAgent({ dir: join(work, 'node'), name: 'sec-pi', format: releaseFormat(), healthTimeoutMs: 60_000, edgeArgs: ['--no-model', '--log-level', 'warn'], log });
    await agent.start();
    server = createAgentServer({ agent, log, maxBundleBytes: 1024 * 1024 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    addr = { host: '127.0.0.1', port: (server.address() as { port: number }).port };
  }, 180_000);

  afterAll(async () => {
    server?.close();
    server?.closeAllConnections();
    await agent?.stop();
    await hub?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (keys) rmSync(keys.dir, { recursive: true, force: true });
    if (store) rmSync(store.dir, { recursive: true, force: true });
  });

  it('is adopted with the node\'s credentials over TLS and sees its node become ready through the node\'s ACL', async () => {
    const said: string[] = [];
    const fleet = new FleetStore(join(work, 'fleet'));
    const profileFile = join(ROOT, 'firmware-config/profiles/sim-robot.yaml');
    const figures = await adoptDuringWindow({
      store: fleet, show: 'quick', broker: hub.broker!.tlsUrl!, windowMs: 120_000, static: [addr], mdns: false, say: (l) => said.push(l),
      plan: [{ name: 'sec-pi', node: 'ann', character: 'ann', profileFile, profileText: readFileSync(profileFile, 'utf8'), code: agent.pairingCode()! }],
      // `kuroko access` writes clients/ inside its store: the fleet also issues the agent's HTTPS certificate from the show CA.
      credentials: new CredentialFolder(join(store.dir, 'clients')),
    });
    expect(figures, said.join('\n')).toMatchObject([{ node: 'ann', ok: true }]);
    expect(said.join('\n')).toMatch(/\[ann\] ok\s+credentials: installed agent-ca\.crt, agent-tls\.crt, agent-tls\.key, kuroko-access\.json for ann/);
    expect(hub.registry.get('ann')?.state).toBe('ready');
    expect(await getInfo(addr)).toMatchObject({ nodeId: 'ann', state: 'running', nodeState: 'ready' });
    // The show lock reads the hub's retained show state: the broker delivered it to the node identity too.
    const watch = (agent as unknown as { watch: NodeWatch }).watch;
    expect(watch.showState).toMatchObject({ v: 1 });
  }, 180_000);

  it('then answers the token only over HTTPS, with a certificate from the show CA for this node, which the fleet pins', async () => {
    const fleet = new FleetStore(join(work, 'fleet'));
    const ann = fleet.get('ann')!;
    expect(ann.ca).toBe(readFileSync(join(store.dir, 'ca.crt'), 'utf8'));
    // Plain HTTP: discovery still answers; the token is refused without TLS.
    expect((await getInfo(addr)).nodeId).toBe('ann');
    await expect(rollback(addr, ann.token, false, () => undefined)).rejects.toMatchObject({ status: 426, message: expect.stringMatching(/node ann takes POST \/v1\/rollback over HTTPS only/) });
    // The fleet's own call: HTTPS, the pinned CA, the node's name. It reaches the agent (which has nothing to go back to).
    const said: string[] = [];
    const [out] = await rollbackFleet(fleet, { force: false, say: (l) => said.push(l) });
    expect(out, said.join('\n')).toMatchObject({ node: 'ann', outcome: 'refused', message: 'no previous release to go back to (running 1.0.0)' });
    // Another show's CA, or another node's name, is not this agent.
    const stranger = await tempStore('other', ['ann']);
    await expect(rollback({ ...pinnedAddress(ann), ca: readFileSync(join(stranger.dir, 'ca.crt'), 'utf8') }, ann.token, false, () => undefined)).rejects.toThrow(/certificate|self.signed|unable to verify/i);
    await expect(rollback({ ...pinnedAddress(ann), servername: agentTlsName('ben') }, ann.token, false, () => undefined)).rejects.toThrow(/altnames|does not match|Hostname/i);
    rmSync(stranger.dir, { recursive: true, force: true });
  }, 60_000);
});
