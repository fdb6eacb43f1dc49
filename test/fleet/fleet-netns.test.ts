/**
 * The fleet on one machine: a hub and three robots' computers, each in its own network namespace
 * on one bridge (addresses only inside the namespaces). Each computer runs the real node agent
 * from a release installed with `kuroko node install`; the operator's commands are the real
 * `kuroko fleet …` run inside the hub's namespace. The walk is the README's robot builder's guide:
 * discover (mDNS, also seen by Debian's avahi-browse; a static address), adopt during a
 * permit-join window with each robot's pairing code (one robot's emulated Uno is flashed with the
 * release's firmware), update
 * v1 → v2 staged, a broken v3 that every node rolls back by itself, the show lock refusing an
 * update while the show is armed, and a fleet rollback.
 *
 * Stand-ins, the last inch only: the robot with a board has an emulated Uno (simavr) on a pty;
 * the test bundles carry an entry script that runs this checkout instead of compiled JS.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { NetnsLab, netnsAvailable } from '../helpers/netns.ts';
import { KUROKO, ROOT, waitFor } from '../helpers/stage.ts';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { makeTestBundle, testKeys, type TestKeys } from './test-bundles.ts';
import type { Found } from '../../hub/fleet/discovery.ts';

const unavailable = netnsAvailable();
if (unavailable && process.env.CI) throw new Error(`the fleet test must run in CI: ${unavailable}`);
if (unavailable) console.warn(`fleet namespace test not run here: ${unavailable}`);

const ROBOTS = ['robot-a', 'robot-b', 'robot-c'] as const;
const run = promisify(execFile);

describe.skipIf(!!unavailable)('the fleet in network namespaces', () => {
  let lab: NetnsLab;
  let work: string;
  let keys: TestKeys;
  let emu: EmulatedUno;
  let avahi: Awaited<ReturnType<NetnsLab['startAvahi']>>;
  const bundle: Record<'v1' | 'v2' | 'v3', string> = { v1: '', v2: '', v3: '' };
  const fleetDir = () => join(work, 'fleet');
  const hubLog: string[] = [];
  const agentLogs = new Map<string, string[]>();
  // When a step fails, the agents' and the hub's own words say why.
  beforeEach(({ onTestFailed }) => onTestFailed(() => {
    for (const [r, l] of agentLogs) console.error(`---- agent ${r} (last lines)\n${l.join('').split('\n').slice(-25).join('\n')}`);
    console.error(`---- hub (last lines)\n${hubLog.join('').split('\n').slice(-15).join('\n')}`);
  }));

  /** `kuroko fleet …` on the operator's machine (the hub's namespace). */
  const fleet = (args: string[], timeoutMs = 150_000) =>
    lab.run('hub', process.execPath, [KUROKO, 'fleet', ...args, '--fleet-dir', fleetDir()], { timeoutMs, env: { ...process.env, KUROKO_LOG_FORMAT: 'json' } });
  const listJson = async (extra: string[] = ['--mdns-ms', '0']): Promise<Found[]> => {
    const r = await fleet(['list', '--json', ...extra]);
    expect(r.code, r.out).toBe(0);
    return JSON.parse(r.out.slice(r.out.indexOf('['))) as Found[];
  };
  const byNode = (found: Found[], node: string) => found.find((f) => f.info?.nodeId === node)?.info;
  const console_ = (cmd: string) => lab.run('hub', 'mosquitto_pub', ['-h', '10.77.0.1', '-t', `kuroko/v1/fleet/console/${cmd}`, '-n']);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'kuroko-fleet-'));
    keys = testKeys();
    // The robot with a board: an Uno with only its bootloader, so adoption must flash it.
    [emu, bundle.v1, bundle.v2, bundle.v3] = await Promise.all([
      EmulatedUno.start({ firmware: null, bootloader: true, link: join(work, 'robot-c-uno') }),
      makeTestBundle(join(work, 'kuroko-1.0.0.tar.gz'), '1.0.0', 'working', keys.key),
      makeTestBundle(join(work, 'kuroko-2.0.0.tar.gz'), '2.0.0', 'working', keys.key),
      makeTestBundle(join(work, 'kuroko-3.0.0.tar.gz'), '3.0.0', 'crashes', keys.key),
    ]);
    lab = NetnsLab.create(['hub', ...ROBOTS]);
    avahi = await lab.startAvahi('hub');
    const hub = lab.spawn('hub', process.execPath, [KUROKO, 'hub', '--show', join(ROOT, 'test/fleet/fixtures/fleet-show.yaml'), '--port', '1883', '--http-port', '0', '--journal-dir', join(work, 'journal'), '--log-level', 'warn']);
    hub.stderr?.on('data', (d) => hubLog.push(String(d)));
    // Each computer: the first release installed from a bundle, then the agent (the guide's steps).
    await Promise.all(ROBOTS.map((r) => run(process.execPath, [KUROKO, 'node', 'install', '--bundle', bundle.v1, '--trust', keys.publicFile, '--dir', join(work, r)])));
    for (const r of ROBOTS) {
      const dir = join(work, r);
      const agent = lab.spawn(r, process.execPath, [KUROKO, 'node', 'agent', '--dir', dir, '--name', r, '--health-timeout', '90', '--edge-arg=--no-model', '--edge-arg=--log-level=warn'], { env: { ...process.env, KUROKO_LOG_FORMAT: 'json' } });
      const log: string[] = [];
      agent.stdout?.on('data', (d) => log.push(String(d)));
      agent.stderr?.on('data', (d) => log.push(String(d)));
      agentLogs.set(r, log);
    }
    writeFileSync(join(work, 'robot-c-board.yaml'), [
      'kuroko: 1', 'platform: linux',
      `boards: [{ id: body, type: firmata, model: uno, port: "${join(work, 'robot-c-uno')}", failsafeMs: 500 }]`,
      'servos: [{ id: head-pan, pin: 9, min: 30, max: 150, rest: 90, maxSpeed: 180 }]',
      'leds: [{ id: status, type: single, pin: 13 }]', '',
    ].join('\n'));
  }, 300_000);

  /** The pairing code each agent printed on its console (and kept in its folder, readable by its user only). */
  const pairingCode = (r: string) => {
    const printed = new RegExp(`kuroko agent ${r}: pairing code ([A-Z0-9]{4}-[A-Z0-9]{4})`).exec(agentLogs.get(r)!.join(''))?.[1];
    expect(readFileSync(join(work, r, 'agent', 'pairing-code'), 'utf8').trim()).toBe(printed);
    return printed!;
  };

  afterAll(async () => {
    await avahi?.stop().catch(() => undefined);
    lab?.destroy();
    await emu?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (keys) rmSync(keys.dir, { recursive: true, force: true });
  });

  it('finds the three new computers over mDNS (kuroko fleet list and avahi-browse) and by a static address', async () => {
    const found = await waitFor('three agents over mDNS', async () => {
      const f = await listJson(['--mdns-ms', '2500']);
      return f.filter((x) => x.via === 'mdns' && x.info?.state === 'unadopted').length === 3 && f;
    }, 150_000, 500);
    expect(found.map((f) => f.info?.name).sort()).toEqual([...ROBOTS]);
    expect(found.map((f) => f.address.host).sort()).toEqual(['10.77.0.2', '10.77.0.3', '10.77.0.4']);
    expect(found.every((f) => f.info?.version === '1.0.0' && f.info.nodeId === null)).toBe(true);
    const table = await fleet(['list', '--mdns-ms', '2500']);
    expect(table.out).toMatch(/NAME\s+NODE\s+ADDRESS\s+VERSION\s+FIRMWARE\s+STATE/);
    expect(table.out).toMatch(/robot-b\s+-\s+10\.77\.0\.3:7701\s+1\.0\.0\s+-\s+unadopted\s+mdns/);

    // A real DNS-SD client sees the same services, with their TXT records.
    const browse = await lab.run('hub', 'avahi-browse', ['-rtp', '_kuroko._tcp'], { env: avahi.env, timeoutMs: 20_000 });
    const resolved = browse.out.split('\n').filter((l) => l.startsWith('='));
    expect(resolved.length, browse.out).toBeGreaterThanOrEqual(3);
    for (const [i, r] of ROBOTS.entries()) {
      expect(browse.out).toMatch(new RegExp(`=;eth0;IPv4;${r};_kuroko\\._tcp;local;${r}\\.local;10\\.77\\.0\\.${i + 2};7701;.*"version=1\\.0\\.0"`));
    }

    // The pairing codes are on each robot's console, never in its mDNS record.
    for (const r of ROBOTS) expect(browse.out).not.toContain(pairingCode(r));

    // Multicast blocked: a static address still works.
    const direct = await listJson(['--mdns-ms', '0', '--static', '10.77.0.2']);
    expect(direct).toHaveLength(1);
    expect(direct[0]!.via).toBe('static');
    expect(direct[0]!.info?.name).toBe('robot-a');
  }, 240_000);

  it('adopts the three during a permit-join window, flashing the board whose firmware differs', async () => {
    // The plan, with the code read on each robot (the guide's step 5).
    writeFileSync(join(work, 'plan.yaml'), [
      'show: fleet', 'broker: mqtt://10.77.0.1:1883', 'nodes:',
      `  - { name: robot-a, node: node-a, character: ann, profile: ${join(ROOT, 'firmware-config/profiles/sim-robot.yaml')}, code: ${pairingCode('robot-a')} }`,
      `  - { name: robot-b, node: node-b, character: ben, profile: ${join(ROOT, 'firmware-config/profiles/sim-robot.yaml')}, code: ${pairingCode('robot-b')} }`,
      `  - { node: node-c, character: cat, profile: robot-c-board.yaml, code: ${pairingCode('robot-c')} }`, '',
    ].join('\n'));
    const r = await fleet(['adopt', '--plan', join(work, 'plan.yaml'), '--time', '120']);
    expect(r.out).toMatch(/permit join open for 120 s/);
    expect(r.out).toMatch(/\[node-c\] \.\.\s+flash: board body: no Firmata answer, flashing Kuroko 1\.0/);
    expect(r.out).toMatch(/\[node-c\] ok\s+flash: board body now runs Kuroko 1\.0/);
    expect(r.out).toMatch(/\[node-a\] skip firmware: the profile has no Firmata boards/);
    expect(r.out).toMatch(/\[node-a\] ok\s+credentials: no credentials given/);
    for (const n of ['node-a', 'node-b', 'node-c']) expect(r.out).toMatch(new RegExp(`\\[${n}\\] DONE`));
    expect(r.code, r.out).toBe(0);
    const found = await listJson();
    expect(byNode(found, 'node-a')).toMatchObject({ name: 'robot-a', character: 'ann', state: 'running', nodeState: 'ready', version: '1.0.0' });
    expect(byNode(found, 'node-c')).toMatchObject({ name: 'robot-c', firmware: 'Kuroko 1.0', nodeState: 'ready' });
    // The unnamed plan entry went to the one new computer left.
    expect(JSON.parse(readFileSync(join(fleetDir(), 'fleet.json'), 'utf8')).nodes['node-c'].name).toBe('robot-c');
  }, 180_000);

  it('updates v1 → v2 one node first, then the rest', async () => {
    const r = await fleet(['update', '--release', bundle.v2]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/staged rollout: node-a first, then node-b, node-c/);
    // node-b starts only after node-a committed.
    expect(r.out.indexOf('[node-a] ok   commit')).toBeGreaterThan(0);
    expect(r.out.indexOf('[node-b] ..   verify')).toBeGreaterThan(r.out.indexOf('[node-a] ok   commit'));
    const found = await listJson();
    for (const n of ['node-a', 'node-b', 'node-c']) expect(byNode(found, n)).toMatchObject({ version: '2.0.0', previous: '1.0.0', nodeState: 'ready' });
  }, 180_000);

  it('a broken v3 rolls back by itself on every node, saying why', async () => {
    const r = await fleet(['update', '--release', bundle.v3, '--all-at-once']);
    expect(r.code, r.out).toBe(1);
    for (const n of ['node-a', 'node-b', 'node-c']) {
      expect(r.out).toMatch(new RegExp(`\\[${n}\\] FAIL health: the node process exited \\(1\\): Error \\[ERR_MODULE_NOT_FOUND\\]: Cannot find module '[^']*missing-module-of-3\\.0\\.0\\.js'`));
      expect(r.out).toMatch(new RegExp(`\\[${n}\\] ROLLED-BACK 3\\.0\\.0 was rolled back to 2\\.0\\.0`));
    }
    const found = await listJson();
    for (const n of ['node-a', 'node-b', 'node-c']) {
      expect(byNode(found, n)).toMatchObject({ version: '2.0.0', nodeState: 'ready' });
      expect(byNode(found, n)?.lastResult).toMatch(/update to 3\.0\.0 rolled back: the node process exited/);
    }
  }, 180_000);

  it('refuses an update while the show is armed, even with --force for an armed node', async () => {
    let found: Found[] = [];
    // Arm (again, until every node reports armed: an arm reaches only the nodes online at that moment).
    await waitFor('every node armed', async () => {
      await console_('arm');
      found = await listJson();
      return ['node-a', 'node-b', 'node-c'].every((n) => byNode(found, n)?.nodeState === 'armed');
    }, 60_000, 300);
    expect(byNode(found, 'node-a')?.lock.locked).toBe(true);
    let r = await fleet(['update', '--release', bundle.v1, '--nodes', 'node-b']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/\[node-b\] FAIL lock: refused: node node-b is armed/);
    r = await fleet(['update', '--release', bundle.v1, '--nodes', 'node-b', '--force']);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toMatch(/not even with --force/);
    await console_('disarm');
    await waitFor('disarmed', async () => { found = await listJson(); return ['node-a', 'node-b', 'node-c'].every((n) => byNode(found, n)?.nodeState === 'ready' && !byNode(found, n)?.lock.locked); }, 60_000, 300);
    expect(byNode(found, 'node-b')?.version).toBe('2.0.0');
  }, 120_000);

  it('kuroko fleet rollback takes every node back to the previous release', async () => {
    const r = await fleet(['rollback']);
    expect(r.code, r.out).toBe(0);
    const after = await listJson();
    for (const n of ['node-a', 'node-b', 'node-c']) expect(byNode(after, n)).toMatchObject({ version: '1.0.0', previous: '2.0.0', nodeState: 'ready' });
  }, 180_000);
});
