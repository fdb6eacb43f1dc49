/**
 * The OSC scenario with Debian's liblo-tools as the real client: oscdump listens for feedback,
 * oscsend subscribes it, arms, starts a scene, GOes a cue and e-stops every node; a UDP client
 * and a TCP (SLIP) client check that every command is answered.
 *
 * oscdump can only listen on every interface (liblo reads a host in its URL as a multicast group),
 * so osc.test.ts runs this file inside a network namespace of its own (unshare -rn), where
 * "every interface" is a private loopback. oscsend cannot send bundles: the time-tagged ones are
 * built with the osc package and sent over UDP, and oscdump shows when their effect arrives. It prints one JSON object: the steps and what oscdump got.
 */
import { spawn, execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pino } from 'pino';
import getPort from 'get-port';
import osc, { type OscMessage } from 'osc';
import { startStage, waitForNodes, type Stage } from '../web/harness.ts';
import { startOsc, parseOscFlags } from '../../hub/osc/cli-options.ts';
import { waitFor } from '../helpers/wait.ts';

const run = promisify(execFile);
const SHOW = fileURLToPath(new URL('./fixtures/osc-show.yaml', import.meta.url));
const P = '/kuroko/osctest';

interface Step { name: string; ok: boolean; ms: number; detail?: string }
const steps: Step[] = [];
const dumped: string[] = [];
/** When each oscdump line arrived (ms, wall clock), parallel to dumped. */
const dumpedAt: number[] = [];
const replies: { via: string; args: unknown[] }[] = [];

async function step(name: string, fn: () => Promise<string | void>): Promise<void> {
  const t0 = performance.now();
  mark = dumped.length;
  try {
    const detail = await fn();
    steps.push({ name, ok: true, ms: Math.round(performance.now() - t0), ...(detail ? { detail } : {}) });
  } catch (e) {
    steps.push({ name, ok: false, ms: Math.round(performance.now() - t0), detail: (e as Error).message });
    throw e;
  }
}

const states = (stage: Stage) => stage.hub.o.show.cast.map((c) => stage.hub.registry.get(c.node)?.state);
/** Whether oscdump printed this since the current step began (older feedback does not count). */
let mark = 0;
const dumpHas = (line: string) => () => dumped.slice(mark).some((l) => l.includes(line));
/** When oscdump printed this line (first time since the current step began). */
const dumpAt = (line: string) => () => { const i = dumped.findIndex((l, k) => k >= mark && l.includes(line)); return i < 0 ? null : dumpedAt[i]; };

let stage: Stage | null = null;
const cleanups: Array<() => unknown> = [];
try {
  stage = await startStage(SHOW);
  await waitForNodes(stage);
  const s = stage;
  const server = await startOsc(s.hub, parseOscFlags({ 'osc-port': '0' })!, pino({ level: 'silent' }));
  cleanups.push(() => server.close());
  const port = String(server.port);
  const oscsend = (path: string, ...typed: string[]) => run('oscsend', ['127.0.0.1', port, `${P}/${path}`, ...typed]);

  const dumpPort = await getPort();
  const dump = spawn('oscdump', ['-L', String(dumpPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => dump.kill('SIGTERM'));
  let buf = '';
  dump.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    dumped.push(...lines);
    dumpedAt.push(...lines.map(() => Date.now()));
  });
  // Its socket opens a moment after the process starts: subscribe until the first feedback arrives.
  await step('oscsend subscribe: oscdump gets the whole state', async () => {
    await waitFor('feedback at oscdump', async () => { await oscsend('subscribe', 'i', String(dumpPort)); return dumpHas(`${P}/state/status`)(); }, 15000, 300);
    await waitFor('node states at oscdump', () => s.hub.o.show.cast.every((c) => dumped.slice(mark).some((l) => l.includes(`${P}/node/${c.node}/state s "ready"`))));
  });

  // A UDP client of our own, to see the replies (oscsend does not wait for any).
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  cleanups.push(() => udp.close());
  udp.on('message', (d) => { const m = osc.readPacket(d, { metadata: true }) as OscMessage; if (m.address === `${P}/reply`) replies.push({ via: 'udp', args: m.args.map((a) => a.value) }); });
  const udpSend = (path: string, args: OscMessage['args'] = []) => udp.send(Buffer.from(osc.writePacket({ address: `${P}/${path}`, args }, { metadata: true })), server.port, '127.0.0.1');

  await step('oscsend arm: every node armed, armed=1 fed back', async () => {
    await oscsend('arm');
    await waitFor('every node armed', () => states(s).every((x) => x === 'armed'));
    await waitFor('armed 1 at oscdump', dumpHas(`${P}/state/armed i 1`));
    await waitFor('node armed at oscdump', dumpHas(`${P}/node/alice/state s "armed"`));
  });
  await step('oscsend scene/start: the scene runs, standby s2 fed back', async () => {
    await oscsend('scene/start', 's', 'one');
    await waitFor('scene one at oscdump', dumpHas(`${P}/state/scene s "one"`));
    await waitFor('standby s2 at oscdump', dumpHas(`${P}/state/standby s "s2"`));
  });
  await step('oscsend go: the line is performed, standby s3 fed back', async () => {
    await new Promise((r) => setTimeout(r, 300)); // the show's minimum GO interval
    await oscsend('go');
    await waitFor('the line in the transcript', () => s.hub.transcript.some((l) => l.text === 'Good evening, from a cue sent over OSC.'), 15000);
    await waitFor('standby s3 at oscdump', dumpHas(`${P}/state/standby s "s3"`));
    return `transcript: ${s.hub.transcript.map((l) => l.text).join(' | ')}`;
  });
  await step('oscsend estop: every node e-stopped, estop=1 fed back', async () => {
    await oscsend('estop', 's', 'drill');
    await waitFor('every node e-stopped', () => states(s).every((x) => x === 'estopped'));
    await waitFor('estop 1 at oscdump', dumpHas(`${P}/state/estop i 1`));
    await waitFor('every node e-stopped at oscdump', () => s.hub.o.show.cast.every((c) => dumped.slice(mark).some((l) => l.includes(`${P}/node/${c.node}/state s "estopped"`))));
  });
  await step('UDP go during the e-stop is answered with a refusal', async () => {
    udpSend('go');
    const r = await waitFor('a reply to go', () => replies.find((x) => x.args[0] === 'go'));
    if (r.args[1] !== 0 || !String(r.args[2]).includes('e-stop')) throw new Error(`unexpected reply ${JSON.stringify(r.args)}`);
    return JSON.stringify(r.args);
  });
  await step('oscsend over TCP (length-prefixed, liblo) release: the e-stop clears', async () => {
    await run('oscsend', [`osc.tcp://127.0.0.1:${port}`, `${P}/release`]);
    await waitFor('estop 0 at oscdump', dumpHas(`${P}/state/estop i 0`));
    if (s.hub.estopActive) throw new Error('the hub still holds the e-stop');
  });
  await step('TCP with SLIP framing: state request and an answered command', async () => {
    const sock = connect(server.port, '127.0.0.1');
    cleanups.push(() => sock.destroy());
    const slip = new osc.SLIPPort({ metadata: true });
    const got: OscMessage[] = [];
    slip.on('osc', (m: OscMessage) => got.push(m));
    sock.on('data', (d) => slip.decodeSLIPData(d));
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(Buffer.from(slip.encodeOSC({ address: `${P}/state`, args: [] })));
    sock.write(Buffer.from(slip.encodeOSC({ address: `${P}/next-speaker`, args: [{ type: 's', value: 'bob' }] })));
    await waitFor('state over SLIP', () => got.some((m) => m.address === `${P}/state/estop`));
    const r = await waitFor('reply over SLIP', () => got.find((m) => m.address === `${P}/reply`));
    replies.push({ via: 'tcp-slip', args: r.args.map((a) => a.value) });
    if (r.args[0]?.value !== 'next-speaker' || r.args[1]?.value !== 1) throw new Error(`unexpected reply ${JSON.stringify(r.args)}`);
  });
  const udpBundle = (atMs: number, ...packets: OscMessage[]) =>
    udp.send(Buffer.from(osc.writePacket({ timeTag: { native: atMs }, packets }, { metadata: true })), server.port, '127.0.0.1');
  await step('a bundle time-tagged 1.5 s ahead arms the nodes: oscdump sees armed=1 only after its time', async () => {
    await waitFor('every node ready after the release', () => states(s).every((x) => x === 'ready'), 15000);
    const at = Date.now() + 1500;
    udpBundle(at, { address: `${P}/arm`, args: [] });
    const seen = await waitFor('armed 1 at oscdump', dumpAt(`${P}/state/armed i 1`), 15000);
    if (seen < at) throw new Error(`armed ${at - seen} ms before the bundle's time tag`);
    return `armed=1 reached oscdump ${seen - at} ms after the time tag`;
  });
  await step('an e-stop inside a bundle 30 min ahead stops at once: oscdump sees estop=1', async () => {
    const sent = Date.now();
    udpBundle(sent + 30 * 60_000, { address: `${P}/go`, args: [] }, { address: `${P}/estop`, args: [{ type: 's', value: 'bundle' }] });
    const seen = await waitFor('estop 1 at oscdump', dumpAt(`${P}/state/estop i 1`), 15000);
    await waitFor('every node e-stopped', () => states(s).every((x) => x === 'estopped'));
    const dropped = await waitFor('the rest of the bundle dropped', () => replies.find((x) => x.args[0] === 'bundle' && x.args[1] === 0));
    return `estop=1 at oscdump ${seen - sent} ms after sending; ${String(dropped.args[2]).slice(0, 80)}…`;
  });
} catch {
  // recorded in steps
} finally {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
  await stage?.close().catch(() => undefined);
}
process.stdout.write(`${JSON.stringify({ steps, dumped, replies })}\n`);
process.exit(0);
