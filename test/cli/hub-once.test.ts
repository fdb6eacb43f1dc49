/**
 * `kuroko hub --once` as a user runs it for a real show: `kuroko access init` makes the show's
 * credentials, `kuroko hub --once` runs the hub (its embedded broker, secured, on 127.0.0.1) and
 * each robot is a real `kuroko edge` process on the simulated robot profile — the last inch, as
 * there is no robot here. The hub's exit code and summary are checked: 0 when the show ran through,
 * 1 with a summary when a node rejected a cue, and 1 when a character's node never came up (so no
 * line was performed).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { ROOT, kurokoHere } from './run-cli.ts';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
const KUROKO = `${ROOT}bin/kuroko.js`;
const SIM = `${ROOT}firmware-config/profiles/sim-robot.yaml`;
const ALL = ['alice', 'bob', 'carol', 'dave'];

/** The user's environment: vitest's KUROKO_INSECURE=1 (for in-process stages) must not reach the real CLI. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'KUROKO_INSECURE'));
let work = '';
let access = '';

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kuroko-hub-once-'));
  access = join(work, 'access');
  // Both fixtures are show "oncetest" with nodes alice, bob, carol and dave: one store serves them.
  const r = await kurokoHere(['access', 'init', '--show', fixture('hub-once.yaml'), '--dir', access]);
  // The hub must really be secured (plain MQTT on 127.0.0.1, signed control messages), as for a user.
  expect(r.stdout).toContain('oncetest');
  expect(r.code, r.stderr).toBe(0);
}, 60000);
afterAll(() => { if (work) rmSync(work, { recursive: true, force: true }); });

interface Run { code: number | null; out: string }

/** Runs `kuroko hub --once` on `show` with a real edge process for each of `nodes`, from a scratch folder. */
async function hubOnce(show: string, nodes: string[], waitNodes: number): Promise<Run> {
  const run = mkdtempSync(join(work, 'run-'));
  const port = await getPort();
  let out = '';
  const hub = spawn(process.execPath, [KUROKO, 'hub', '--show', show, '--once', '--wait-nodes', String(waitNodes),
    // Everything on 127.0.0.1: the plain MQTT port, the TLS port (any free one) and the page.
    '--port', String(port), '--tls-port', '0', '--bind', '127.0.0.1', '--http-port', '0',
    '--access', access, '--journal-dir', join(run, 'journal'), '--log-level', 'warn'], { cwd: run, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  hub.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  hub.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  // The robots start once the hub's broker is up (a node gives up on a broker it cannot reach in 10 s),
  // each with its own credentials from the store, as the README's real-show recipe has it.
  await new Promise<void>((resolve) => {
    const check = () => { if (/broker +mqtt:\/\//.test(out) || hub.exitCode !== null) { hub.stdout!.off('data', check); hub.off('exit', check); resolve(); } };
    hub.stdout!.on('data', check);
    hub.on('exit', check);
    check();
  });
  const edges: ChildProcess[] = nodes.map((n) => spawn(process.execPath, [KUROKO, 'edge', '--show', 'oncetest', '--node', n, '--character', n,
    '--profile', SIM, '--broker', `mqtt://127.0.0.1:${port}`, '--credentials', join(access, 'clients', `${n}.json`),
    '--var-dir', join(run, `var-${n}`), '--no-model', '--log-level', 'error'], { cwd: run, env: ENV, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
  // The nodes' own complaints (e.g. MQTT errors before the hub's broker is up) go with the hub's output, for a failing test.
  for (const e of edges) e.stderr!.on('data', (d: Buffer) => { out += `[edge] ${d.toString()}`; });
  try {
    const code = await new Promise<number | null>((resolve) => hub.once('exit', (c) => resolve(c)));
    return { code, out };
  } finally {
    for (const e of edges) if (e.exitCode === null && e.signalCode === null) e.kill('SIGTERM');
    await Promise.all(edges.map((e) => (e.exitCode !== null || e.signalCode !== null) ? undefined : new Promise((r) => e.once('exit', r))));
  }
}

describe('kuroko hub --once, the real CLI with real edge nodes', () => {
  it('exits 0 with a PASSED summary when every scene finished and the lines were performed', async () => {
    const r = await hubOnce(fixture('hub-once.yaml'), ALL, 90);
    expect(r.out).toMatch(/ALICE +Good evening\./);
    expect(r.out).toMatch(/BOB +Good evening to you\./);
    expect(r.out).toContain('PASSED: every scene finished, 2 lines performed, no cue rejected.');
    expect(r.out).not.toContain('--insecure');
    expect(r.code, r.out).toBe(0);
  }, 200000);

  it('exits 1 with a summary naming the cue when a node rejected it', async () => {
    const show = fixture('hub-once-rejected.yaml');
    const r = await hubOnce(show, ALL, 90);
    expect(r.out).toMatch(/ALICE +Good evening\./);
    expect(r.out).toContain('FAILED: 1 cue was rejected, failed or skipped (1 lines performed).');
    expect(r.out).toMatch(/cue-rejected +one\/m1 on bob: .*no servo "tail"/);
    expect(r.out).toContain(`kuroko validate ${show} --profiles DIR`);
    expect(r.code, r.out).toBe(1);
  }, 200000);

  it('exits 1 with a summary when a character\'s node never comes up, so no line was performed', async () => {
    // Three robots run; dave's is never started.
    const r = await hubOnce(fixture('hub-once.yaml'), ['alice', 'bob', 'carol'], 8);
    expect(r.out).toMatch(/FAILED: nodes? ((alice|bob|carol), )*dave did not come up within 8 s \(start (it|them): kuroko edge --node \S+ …, or wait longer with --wait-nodes S\); no line was performed \(0 lines performed\)\./);
    expect(r.out).not.toContain('PASSED');
    expect(r.code, r.out).toBe(1);
  }, 120000);
});
