/**
 * OSC in and out. The end-to-end part drives a real stage (hub, embedded broker, four edge node
 * processes) with Debian's liblo-tools (oscsend, oscdump) inside a private network namespace (see
 * scenario.ts for why); the rest checks the address space, the allow-list and the arming rule
 * against a real Hub's console commands over real UDP sockets on 127.0.0.0/8.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import osc, { type OscMessage } from 'osc';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { OscServer } from '../../hub/osc/server.ts';
import { AllowList } from '../../hub/osc/allow-list.ts';
import { parseOscMessage } from '../../hub/osc/address-space.ts';
import { parseOscFlags } from '../../hub/osc/cli-options.ts';
import { commandsOf, stageStateOf } from '../../hub/osc/hub-adapter.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import getPort from 'get-port';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHOW = fileURLToPath(new URL('./fixtures/osc-show.yaml', import.meta.url));
const msg = (address: string, ...args: OscMessage['args']): OscMessage => ({ address, args });

describe('the OSC address space', () => {
  const o = { show: 'blade', allowArm: false };
  it('maps each documented address onto its console command', () => {
    expect(parseOscMessage(msg('/kuroko/blade/go'), o)).toEqual({ kind: 'command', command: 'go', args: {} });
    expect(parseOscMessage(msg('/kuroko/blade/scene/start', { type: 's', value: 'storm' }), o)).toEqual({ kind: 'command', command: 'scene/start', args: { scene: 'storm' } });
    expect(parseOscMessage(msg('/kuroko/blade/estop'), o)).toMatchObject({ kind: 'command', command: 'estop' });
    expect(parseOscMessage(msg('/kuroko/blade/next-speaker', { type: 's', value: 'kenzaki' }), o)).toEqual({ kind: 'command', command: 'next-speaker', args: { character: 'kenzaki' } });
    expect(parseOscMessage(msg('/kuroko/blade/subscribe', { type: 'i', value: 9000 }), o)).toEqual({ kind: 'subscribe', port: 9000 });
    expect(parseOscMessage(msg('/other/thing'), o)).toBeNull();
  });
  it('refuses arm and release unless the show allows them, never estop', () => {
    expect(parseOscMessage(msg('/kuroko/blade/arm'), o)).toMatchObject({ kind: 'refused', message: expect.stringContaining('osc.allowArm') });
    expect(parseOscMessage(msg('/kuroko/blade/release'), o)).toMatchObject({ kind: 'refused' });
    expect(parseOscMessage(msg('/kuroko/blade/arm'), { ...o, allowArm: true })).toMatchObject({ kind: 'command', command: 'arm' });
  });
  it('says what is wrong: another show, an unknown address, a scene without its id', () => {
    expect(parseOscMessage(msg('/kuroko/twelve/go'), o)).toMatchObject({ kind: 'refused', message: expect.stringContaining('/kuroko/blade/go') });
    expect(parseOscMessage(msg('/kuroko/blade/jump'), o)).toMatchObject({ kind: 'refused', message: expect.stringContaining('unknown OSC address') });
    expect(parseOscMessage(msg('/kuroko/blade/scene/start'), o)).toMatchObject({ kind: 'refused', message: expect.stringContaining('scene id') });
  });
  it('allow-list: addresses and IPv4 ranges; flags are checked before anything opens', () => {
    const a = new AllowList(['10.0.0.0/24', '::1', '127.0.0.1']);
    expect(a.allows('10.0.0.77')).toBe(true);
    expect(a.allows('::ffff:10.0.0.77')).toBe(true);
    expect(a.allows('10.0.1.1')).toBe(false);
    expect(a.allows('::1')).toBe(true);
    expect(() => new AllowList(['qlab.local'])).toThrow(/not an IP address/);
    expect(() => parseOscFlags({ 'osc-allow': '10.0.0.1' })).toThrow(/needs --osc-port/);
    expect(() => parseOscFlags({ 'osc-port': '70000' })).toThrow(/not a port number/);
    expect(parseOscFlags({ 'osc-port': '53000' })?.host).toBe('127.0.0.1');
  });
});

describe('the OSC server on a real hub', () => {
  let server: OscServer | null = null;
  const sockets: Socket[] = [];
  let started: { hub: Hub; dir: string } | null = null;
  afterEach(async () => {
    if (started) { await started.hub.stop(); rmSync(started.dir, { recursive: true, force: true }); started = null; }
    for (const s of sockets.splice(0)) s.close();
    await server?.close();
    server = null;
  });

  async function serve(allowArm: boolean): Promise<{ hub: Hub; server: OscServer }> {
    // The hub is not started: its console commands run, and nothing leaves the process.
    // Started (its own broker on a free port, journal in a temp dir, no nodes): the e-stop needs the ledger start() opens.
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-osc-'));
    const hub = new Hub({ show: loadShow(SHOW), port: await getPort(), journalDir: dir, logger: pino({ level: 'silent' }) });
    await hub.start();
    started = { hub, dir };
    server = new OscServer({ show: 'osctest', allowArm, port: 0, host: '127.0.0.1', allow: new AllowList(['127.0.0.1']), commands: commandsOf(hub), state: stageStateOf(hub) });
    await server.start();
    return { hub, server };
  }
  async function client(from: string): Promise<{ send(m: OscMessage): void; replies: unknown[][] }> {
    const s = createSocket('udp4');
    sockets.push(s);
    await new Promise<void>((r) => s.bind(0, from, () => r()));
    const replies: unknown[][] = [];
    s.on('message', (d) => { const m = osc.readPacket(d, { metadata: true }) as OscMessage; if (m.address.endsWith('/reply')) replies.push(m.args.map((a) => a.value)); });
    return { replies, send: (m) => s.send(Buffer.from(osc.writePacket(m, { metadata: true })), server!.port, '127.0.0.1') };
  }

  it('answers every command; arm is refused when the show does not allow it, estop is not', async () => {
    const { hub } = await serve(false);
    const c = await client('127.0.0.1');
    c.send(msg('/kuroko/osctest/arm'));
    await waitFor('arm answered', () => c.replies.length === 1);
    expect(c.replies[0]).toEqual(['arm', 0, expect.stringContaining('from OSC is off')]);
    c.send(msg('/kuroko/osctest/estop'));
    await waitFor('estop answered', () => c.replies.length === 2);
    expect(c.replies[1]).toEqual(['estop', 1, expect.stringContaining('E-STOP')]);
    expect(hub.estopActive).toBe(true);
  });

  it('ignores a source that is not on the allow-list, unanswered', async () => {
    const { hub, server: s } = await serve(true);
    const stranger = await client('127.0.0.2');
    stranger.send(msg('/kuroko/osctest/estop'));
    stranger.send(msg('/kuroko/osctest/go'));
    await waitFor('both packets seen and dropped', () => s.stats.refusedSource === 2);
    await sleep(200);
    expect(stranger.replies).toEqual([]);
    expect(s.stats.commands).toBe(0);
    expect(hub.estopActive).toBe(false);
  });

  it('drops malformed packets without a reply or a crash', async () => {
    const { server: s } = await serve(true);
    const c = await client('127.0.0.1');
    const raw = createSocket('udp4');
    sockets.push(raw);
    raw.send(Buffer.from('not osc at all'), s.port, '127.0.0.1');
    await waitFor('malformed counted', () => s.stats.malformed === 1);
    c.send(msg('/kuroko/osctest/go'));
    await waitFor('still answering', () => c.replies.length === 1);
  });
});

describe('oscsend and oscdump against a real stage', () => {
  it('starts a scene, GOes a cue and e-stops every node; oscdump receives the state feedback', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      // A private network namespace: oscdump listens on every interface there, which is only its own loopback.
      execFile('unshare', ['-rn', 'sh', '-c', `ip link set lo up && exec "${process.execPath}" bin/run-ts.js test/osc/scenario.ts`],
        { cwd: ROOT, maxBuffer: 16 * 1024 * 1024, timeout: 240000 }, (err, stdout, stderr) => {
          if (err && !stdout) reject(new Error(`the OSC scenario could not run (needs unshare from util-linux and iproute2, and user or root namespaces): ${err.message}\n${stderr.slice(-2000)}`));
          else resolve(stdout);
        });
    });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { steps: { name: string; ok: boolean; ms: number; detail?: string }[]; dumped: string[] };
    for (const s of r.steps) console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} (${s.ms} ms)${s.detail ? ` — ${s.detail}` : ''}`);
    expect(r.steps.filter((s) => !s.ok)).toEqual([]);
    expect(r.steps.map((s) => s.name)).toHaveLength(10);
    const dumped = r.dumped.join('\n');
    expect(dumped).toMatch(/\/kuroko\/osctest\/state\/standby s "s2"/);
    expect(dumped).toMatch(/\/kuroko\/osctest\/state\/scene s "one"/);
    expect(dumped).toMatch(/\/kuroko\/osctest\/state\/estop i 1/);
    for (const n of ['alice', 'bob', 'carol', 'dave']) expect(dumped).toContain(`/kuroko/osctest/node/${n}/state s "estopped"`);
  }, 260000);
});
