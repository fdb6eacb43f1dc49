/**
 * OSC bundle time tags. oscsend cannot send a bundle, so the bundles here are built byte for byte
 * with the `osc` package (the library QLab-style senders in Node use) and sent over real UDP and
 * TCP sockets on 127.0.0.1 to a real, started Hub's OSC server; the replies come back the same way.
 * oscdump's view of a scheduled bundle is in scenario.ts (run by osc.test.ts).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import getPort from 'get-port';
import osc, { type OscMessage, type OscPacket } from 'osc';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { OscServer } from '../../hub/osc/server.ts';
import { AllowList } from '../../hub/osc/allow-list.ts';
import { commandsOf, stageStateOf } from '../../hub/osc/hub-adapter.ts';
import { timeTagMs, flattenPacket, planPacket, MAX_AHEAD_MS } from '../../hub/osc/bundle-timing.ts';
import { sleep, waitFor } from '../helpers/wait.ts';

const SHOW = fileURLToPath(new URL('./fixtures/osc-show.yaml', import.meta.url));
const P = '/kuroko/osctest';
const msg = (path: string, ...args: OscMessage['args']): OscMessage => ({ address: `${P}/${path}`, args });
/** A bundle whose time tag is `atMs` of the wall clock (osc.js writes it as NTP seconds + fraction). */
const bundleAt = (atMs: number, ...packets: OscPacket[]): OscPacket => ({ timeTag: { native: atMs }, packets });
/** The special time tag 1: "immediately". */
const bundleNow = (...packets: OscPacket[]): OscPacket => ({ timeTag: { raw: [0, 1] }, packets });
const speaker = (id: string) => msg('next-speaker', { type: 's', value: id });
/** A packet as the server gets it: encoded to bytes and read back. */
const wire = (p: OscPacket): OscPacket => osc.readPacket(osc.writePacket(p, { metadata: true }), { metadata: true });

describe('time tags, planned', () => {
  it('reads "immediately" and NTP times (seconds since 1900 + a 32-bit fraction) as wall-clock ms', () => {
    expect(timeTagMs({ raw: [0, 1] })).toBe('immediately');
    // 2026-01-01T00:00:00.5Z in NTP: 3976214400 s since 1900, half a second of fraction.
    expect(timeTagMs({ raw: [3976214400, 2 ** 31] })).toBe(Date.parse('2026-01-01T00:00:00.500Z'));
    // After the NTP wrap (2036-02-07T06:28:16Z), small second counts are the next era (RFC 4330).
    expect(timeTagMs({ raw: [3600, 0] })).toBe(Date.parse('2036-02-07T07:28:16Z'));
    const bytes = osc.writePacket(bundleAt(1_800_000_000_250, speaker('bob')), { metadata: true });
    const back = osc.readPacket(bytes, { metadata: true }) as { timeTag: unknown };
    expect(Math.abs((timeTagMs(back.timeTag) as number) - 1_800_000_000_250)).toBeLessThan(1);
  });

  it('runs a nested bundle no earlier than the bundle around it, messages in packet order', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    const p = wire(bundleAt(now + 1000, speaker('a'), bundleAt(now + 3000, speaker('b')), bundleAt(now - 5000, speaker('c')), bundleNow(speaker('d'))));
    const flat = flattenPacket(p, now).map((t) => [t.at - now, t.message.args[0]!.value]);
    // c's own time is past and d's is "immediately": both run with the enclosing bundle.
    expect(flat).toEqual([[1000, 'a'], [3000, 'b'], [1000, 'c'], [1000, 'd']]);
    const plan = planPacket(p, { now, isUrgent: () => false, scheduled: 0, where: P });
    expect(plan.now).toEqual([]);
    expect(plan.later.map((g) => [g.at - now, g.messages.map((m) => m.args[0]!.value)])).toEqual([[1000, ['a', 'c', 'd']], [3000, ['b']]]);
  });

  it('takes e-stops out of any bundle to run now, and refuses a bundle more than an hour ahead, naming the place and the fix', () => {
    const now = Date.now();
    const isUrgent = (m: OscMessage) => m.address.endsWith('/estop');
    const plan = planPacket(wire(bundleAt(now + MAX_AHEAD_MS + 60_000, msg('go'), msg('estop'))), { now, isUrgent, scheduled: 0, where: P });
    expect(plan.urgent.map((m) => m.address)).toEqual([`${P}/estop`]);
    expect(plan.later).toEqual([]);
    expect(plan.refused).toMatch(new RegExp(`^OSC bundle to ${P} refused: its time tag .* is 61 min ahead of this hub's clock, more than the 60 min .*\\(go not run\\)\\. Send it with time tag 1 \\("immediately"\\) or at most 60 min ahead`));
    const full = planPacket(wire(bundleAt(now + 5000, msg('go'))), { now, isUrgent, scheduled: 64, where: P });
    expect(full.refused).toMatch(/64 bundles are already waiting/);
  });
});

describe('time-tagged bundles sent to a real hub', () => {
  let started: { hub: Hub; dir: string; server: OscServer } | null = null;
  const sockets: Socket[] = [];
  const tcps: TcpSocket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    for (const s of tcps.splice(0)) s.destroy();
    if (started) { await started.server.close(); await started.hub.stop(); rmSync(started.dir, { recursive: true, force: true }); started = null; }
  });

  /** A started hub (its own broker on a free port, no nodes) with its OSC port; arming from OSC allowed. */
  async function serve(): Promise<{ hub: Hub; server: OscServer }> {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-osc-bundles-'));
    const hub = new Hub({ show: loadShow(SHOW), port: await getPort(), journalDir: dir, logger: pino({ level: 'silent' }) });
    await hub.start();
    const server = new OscServer({ show: 'osctest', allowArm: true, port: 0, host: '127.0.0.1', allow: new AllowList(['127.0.0.1']), commands: commandsOf(hub), state: stageStateOf(hub) });
    await server.start();
    started = { hub, dir, server };
    return { hub, server };
  }

  interface Reply { command: string; ok: number; message: string; at: number }
  async function client(server: OscServer): Promise<{ send(p: OscPacket): number; replies: Reply[] }> {
    const s = createSocket('udp4');
    sockets.push(s);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const replies: Reply[] = [];
    s.on('message', (d) => {
      const m = osc.readPacket(d, { metadata: true }) as OscMessage;
      if (m.address === `${P}/reply`) replies.push({ command: String(m.args[0]!.value), ok: Number(m.args[1]!.value), message: String(m.args[2]!.value), at: Date.now() });
    });
    return { replies, send: (p) => { s.send(Buffer.from(osc.writePacket(p, { metadata: true })), server.port, '127.0.0.1'); return Date.now(); } };
  }
  const find = (rs: Reply[], command: string, n = 0) => () => rs.filter((r) => r.command === command)[n];

  it('runs a bundle tagged "immediately" or in the past at once, in order', async () => {
    const { hub, server } = await serve();
    const c = await client(server);
    c.send(bundleNow(speaker('alice'), speaker('bob')));
    await waitFor('both answered', () => c.replies.length === 2);
    expect(c.replies.map((r) => r.message)).toEqual(['next speaker: alice', 'next speaker: bob']);
    expect(hub.nextSpeaker.current).toBe('bob');
    c.send(bundleAt(Date.now() - 60_000, speaker('carol')));
    await waitFor('the past bundle answered', () => c.replies.length === 3);
    expect(hub.nextSpeaker.current).toBe('carol');
    expect(c.replies.some((r) => r.command === 'bundle')).toBe(false);
    expect(server.scheduledCount()).toBe(0);
  });

  it('holds a future bundle until its time tag, nested bundles until theirs, and says when', async () => {
    const { hub, server } = await serve();
    const c = await client(server);
    const at = Date.now() + 1500;
    c.send(bundleAt(at, speaker('alice'), bundleAt(at + 1000, speaker('dave'))));
    const ack = await waitFor('the bundle acknowledged', find(c.replies, 'bundle'));
    expect(ack).toMatchObject({ ok: 1, message: expect.stringMatching(/^scheduled for \d\d:\d\d:\d\d\.\d{3} \(in 1\.\d s\): next-speaker$/) });
    expect(c.replies.filter((r) => r.command === 'bundle')).toHaveLength(2);
    expect(server.scheduledCount()).toBe(2);
    // Nothing has run yet.
    expect(hub.nextSpeaker.current).toBeNull();
    const first = await waitFor('the outer message ran', find(c.replies, 'next-speaker'), 10000);
    expect(first.message).toBe('next speaker: alice');
    // The hub's timer fires at the time tag, never before it (a millisecond of rounding allowed).
    expect(first.at).toBeGreaterThanOrEqual(at - 2);
    const second = await waitFor('the nested message ran', find(c.replies, 'next-speaker', 1), 10000);
    expect(second.message).toBe('next speaker: dave');
    expect(second.at).toBeGreaterThanOrEqual(at + 1000 - 2);
    expect(hub.nextSpeaker.current).toBe('dave');
    expect(server.scheduledCount()).toBe(0);
  });

  it('answers a mistake in a future bundle at once, not when its time comes', async () => {
    const { hub, server } = await serve();
    const c = await client(server);
    const sent = c.send(bundleAt(Date.now() + 10 * 60_000, msg('jump'), { address: '/kuroko/othershow/go', args: [] }, speaker('bob')));
    await waitFor('both mistakes answered', () => c.replies.filter((r) => r.ok === 0).length === 2);
    const wrong = c.replies.filter((r) => r.ok === 0).map((r) => r.message);
    expect(wrong).toContainEqual(expect.stringContaining('unknown OSC address /kuroko/osctest/jump'));
    expect(wrong).toContainEqual(expect.stringContaining('this hub runs show "osctest", not "othershow"'));
    expect(c.replies.every((r) => r.at - sent < 60_000)).toBe(true);
    // The good message waits for its time.
    expect(await waitFor('the rest scheduled', find(c.replies, 'bundle'))).toMatchObject({ ok: 1, message: expect.stringMatching(/\(in 10 min\): next-speaker$/) });
    expect(server.scheduledCount()).toBe(1);
    expect(hub.nextSpeaker.current).toBeNull();
  });

  it('refuses a bundle more than an hour ahead with a reply that names the place and the fix; nothing runs', async () => {
    const { hub, server } = await serve();
    const c = await client(server);
    c.send(bundleAt(Date.now() + 2 * 3600_000, speaker('bob')));
    const r = await waitFor('the refusal', find(c.replies, 'bundle'));
    expect(r.ok).toBe(0);
    expect(r.message).toMatch(/^OSC bundle to \/kuroko\/osctest refused: its time tag \S+ is 2 h ahead of this hub's clock.*next-speaker not run.*time tag 1 \("immediately"\) or at most 60 min ahead.*\(NTP\)/);
    await sleep(200);
    expect(c.replies).toHaveLength(1);
    expect(hub.nextSpeaker.current).toBeNull();
    expect(server.scheduledCount()).toBe(0);
    expect(server.stats.refusedBundles).toBe(1);
  });

  it('never delays an e-stop: one inside a bundle 30 min ahead stops at once and drops what was scheduled before it', async () => {
    const { hub, server } = await serve();
    const c = await client(server);
    // A release queued 20 minutes ahead must not undo the coming stop when its time comes.
    c.send(bundleAt(Date.now() + 20 * 60_000, msg('release')));
    await waitFor('the release scheduled', find(c.replies, 'bundle'));
    expect(server.scheduledCount()).toBe(1);
    const sent = c.send(bundleAt(Date.now() + 30 * 60_000, msg('go'), msg('estop', { type: 's', value: 'smoke' })));
    const stop = await waitFor('the e-stop answered', find(c.replies, 'estop'));
    expect(stop.ok).toBe(1);
    expect(hub.estopActive).toBe(true);
    // "At once" is minutes before the time tag; the reply came while the bundle's time was far off.
    expect(stop.at - sent).toBeLessThan(60_000);
    await waitFor('both drops answered', () => c.replies.filter((r) => r.command === 'bundle' && r.ok === 0).length === 2);
    const drops = c.replies.filter((r) => r.command === 'bundle' && r.ok === 0).map((r) => r.message);
    expect(drops).toContainEqual(expect.stringMatching(/^the bundle scheduled for .* \(release\) is dropped: an e-stop came first/));
    expect(drops).toContainEqual(expect.stringMatching(/^the e-stop in this bundle ran at once; the rest of it \(go, due at .*\) is dropped/));
    expect(server.scheduledCount()).toBe(0);
    expect(c.replies.some((r) => r.command === 'go' || r.command === 'release')).toBe(false);
  });

  it('an e-stop from the console (MQTT or the page) drops waiting bundles as well', async () => {
    const { hub, server } = await serve();
    const c = await client(server);
    c.send(bundleAt(Date.now() + 60_000, msg('arm')));
    await waitFor('the arm scheduled', find(c.replies, 'bundle'));
    expect((await hub.console.run('estop', { reason: 'from the console' })).ok).toBe(true);
    const drop = await waitFor('the drop answered', find(c.replies, 'bundle', 1));
    expect(drop).toMatchObject({ ok: 0, message: expect.stringContaining('(arm) is dropped: an e-stop came first') });
    expect(server.scheduledCount()).toBe(0);
  });

  it('schedules bundles that come over TCP (SLIP) too, and answers on the connection', async () => {
    const { hub, server } = await serve();
    const sock = connect(server.port, '127.0.0.1');
    tcps.push(sock);
    const slip = new osc.SLIPPort({ metadata: true });
    const got: { m: OscMessage; at: number }[] = [];
    slip.on('osc', (m: OscMessage) => got.push({ m, at: Date.now() }));
    sock.on('data', (d) => slip.decodeSLIPData(d));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    const at = Date.now() + 800;
    sock.write(Buffer.from(slip.encodeOSC(bundleAt(at, speaker('carol')))));
    await waitFor('scheduled over TCP', () => got.some((g) => g.m.args[0]?.value === 'bundle'));
    const ran = await waitFor('ran over TCP', () => got.find((g) => g.m.args[0]?.value === 'next-speaker'), 10000);
    expect(ran.at).toBeGreaterThanOrEqual(at - 2);
    expect(hub.nextSpeaker.current).toBe('carol');
  });
});
