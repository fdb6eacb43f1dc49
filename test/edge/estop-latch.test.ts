/**
 * The e-stop latch: what is written, when a release is accepted, and what happens when the disk
 * misbehaves. Real files in a temp folder; failures are injected into the file operations (the
 * last inch: a full or read-only disk cannot be made on demand, and CI runs as root).
 */
import { describe, it, expect } from 'vitest';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EstopLatch, FileLatchStore, compareStamps, type LatchFs } from '../../edge/estop-latch.ts';
import { SafetyGate } from '../../edge/safety.ts';
import { SimHardware } from '../../edge/hardware/sim.ts';
import { loadProfile } from '../../firmware-config/profile.ts';
import { ROOT } from '../helpers/stage.ts';

const profile = loadProfile(join(ROOT, 'firmware-config/profiles/sim-robot.yaml')).profile;
const tmp = () => mkdtempSync(join(tmpdir(), 'kuroko-latch-'));
const s = (epoch: number, seq: number) => ({ epoch, seq });

/** The real file operations, recording their order, with failures switched on by name. */
function faultyFs() {
  const ops: string[] = [];
  const failing = new Set<string>();
  const wrap = <K extends keyof LatchFs>(name: K): LatchFs[K] => ((...args: unknown[]) => {
    ops.push(name);
    if (failing.has(name)) throw Object.assign(new Error(`${name}: EACCES: permission denied (injected)`), { code: 'EACCES' });
    return (fs[name] as (...a: unknown[]) => unknown)(...args);
  }) as LatchFs[K];
  const f: LatchFs = {
    readFileSync: wrap('readFileSync'), writeFileSync: wrap('writeFileSync'), openSync: wrap('openSync'), fsyncSync: wrap('fsyncSync'),
    closeSync: wrap('closeSync'), renameSync: wrap('renameSync'), mkdirSync: wrap('mkdirSync'),
  };
  return { fs: f, ops, failing };
}

describe('e-stop latch: the file', () => {
  it('writes tmp, fsyncs, renames, syncs the folder; a new start reads it latched, with the injected clock', () => {
    const dir = tmp();
    const path = join(dir, 'node', 'estop-latch.json');
    const { fs: f, ops } = faultyFs();
    const latch = new EstopLatch(new FileLatchStore(path, f), () => 1234);
    expect(latch.load()).toEqual({ latched: false, doubt: null }); // no file yet: a first start
    expect(latch.estop('hub', 'smoke on stage', s(3, 7))).toEqual({ persisted: true, error: null });
    expect(ops.slice(ops.indexOf('openSync'), ops.indexOf('renameSync') + 1)).toEqual(['openSync', 'writeFileSync', 'fsyncSync', 'closeSync', 'renameSync']);
    expect(readdirSync(join(dir, 'node'))).toEqual(['estop-latch.json']); // no temp file left behind
    const saved = JSON.parse(readFileSync(path, 'utf8'));
    expect(saved).toMatchObject({ v: 1, latched: true, source: 'hub', reason: 'smoke on stage', since: 1234, newestEstop: s(3, 7) });
    const again = new EstopLatch(new FileLatchStore(path));
    expect(again.load()).toEqual({ latched: true, doubt: null });
    expect(again.state.newestEstop).toEqual(s(3, 7));
  });

  it('a failed rename leaves the previous state whole (atomic replace)', () => {
    const path = join(tmp(), 'estop-latch.json');
    const { fs: f, failing } = faultyFs();
    const latch = new EstopLatch(new FileLatchStore(path, f));
    latch.load();
    latch.estop('console', 'first');
    failing.add('renameSync');
    const r = latch.release({ retained: false });
    expect(r.ok).toBe(false); // the release could not be stored, so it is refused
    expect(latch.latched).toBe(true);
    expect(JSON.parse(readFileSync(path, 'utf8')).latched).toBe(true);
  });

  it('a damaged file counts as latched (never release on doubt), and reports why', () => {
    const path = join(tmp(), 'estop-latch.json');
    writeFileSync(path, '{"v":1,"latch');
    const latch = new EstopLatch(new FileLatchStore(path));
    const r = latch.load();
    expect(r.latched).toBe(true);
    expect(r.doubt).toMatch(/not valid JSON/);
    expect(latch.fault).toMatch(/not valid JSON/);
    // A live release repairs it: the operator has looked and decided.
    expect(latch.release({ retained: false })).toEqual({ ok: true });
    expect(latch.fault).toBeNull();
    expect(JSON.parse(readFileSync(path, 'utf8')).latched).toBe(false);
  });

  it('a latch path under a regular file (real filesystem error): the e-stop still holds, the node reports a fault', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'not-a-dir'), 'x');
    const latch = new EstopLatch(new FileLatchStore(join(dir, 'not-a-dir', 'estop-latch.json')));
    // Not even readable (ENOTDIR, not "no file yet"): in doubt, it starts latched.
    expect(latch.load()).toEqual({ latched: true, doubt: expect.stringMatching(/cannot read the e-stop latch/) });
    const r = latch.estop('button', 'pressed');
    expect(r.persisted).toBe(false);
    expect(r.error).toMatch(/cannot write the e-stop latch/);
    expect(latch.latched).toBe(true);
  });
});

describe('e-stop latch: which release is accepted', () => {
  it('compares epoch first, then seq', () => {
    expect(compareStamps(s(2, 0), s(1, 99))).toBeGreaterThan(0);
    expect(compareStamps(s(1, 5), s(1, 6))).toBeLessThan(0);
    expect(compareStamps(s(1, 5), s(1, 5))).toBe(0);
  });

  it('refuses a retained release (a stale one after a broker crash), and a release not newer than the e-stop', () => {
    const latch = new EstopLatch();
    latch.load();
    latch.estop('hub', 'e-stop', s(4, 10));
    expect(latch.release({ retained: true, stamp: s(4, 11) })).toEqual({ ok: false, reason: expect.stringMatching(/retained release/) });
    expect(latch.release({ retained: false, stamp: s(4, 9) })).toEqual({ ok: false, reason: expect.stringMatching(/not newer/) });
    expect(latch.release({ retained: false, stamp: s(4, 10) })).toEqual({ ok: false, reason: expect.stringMatching(/not newer/) });
    expect(latch.release({ retained: false, stamp: s(3, 99) })).toEqual({ ok: false, reason: expect.stringMatching(/not newer/) });
    expect(latch.latched).toBe(true);
    expect(latch.release({ retained: false, stamp: s(4, 11) })).toEqual({ ok: true });
    expect(latch.latched).toBe(false);
    // A restarted hub has a higher epoch: its first release is newer than anything from before.
    latch.estop('retained', 'e-stop', s(4, 12));
    expect(latch.release({ retained: false, stamp: s(5, 0) })).toEqual({ ok: true });
  });

  it('an unstamped e-stop (button, console) needs a release newer than every stamp seen before it', () => {
    const latch = new EstopLatch();
    latch.load();
    latch.estop('hub', 'x', s(1, 1));
    expect(latch.release({ retained: false, stamp: s(1, 2) }).ok).toBe(true);
    latch.estop('button', 'pressed'); // no stamp: after the release (1, 2)
    expect(latch.release({ retained: false, stamp: s(1, 2) }).ok).toBe(false); // sent before the press
    expect(latch.release({ retained: false, stamp: s(1, 3) }).ok).toBe(true);
  });

  it('an unstamped release counts only from a hub that never stamps; once stamps are seen it is refused', () => {
    const legacy = new EstopLatch();
    legacy.load();
    legacy.estop('console', 'x');
    expect(legacy.release({ retained: false })).toEqual({ ok: true });
    const stamped = new EstopLatch();
    stamped.load();
    stamped.estop('hub', 'x', s(1, 1));
    expect(stamped.release({ retained: false })).toEqual({ ok: false, reason: expect.stringMatching(/unstamped release is refused/) });
  });
});

describe('e-stop latch in the gate', () => {
  it('a node restarted with a latched file comes up e-stopped and refuses to arm', () => {
    const path = join(tmp(), 'estop-latch.json');
    const first = new EstopLatch(new FileLatchStore(path));
    first.load();
    first.estop('hub', 'before the crash', s(2, 3));
    const gate = new SafetyGate(profile, new SimHardware(profile), 60000, { latch: new EstopLatch(new FileLatchStore(path)) });
    gate.hubHeartbeat();
    expect(gate.state).toBe('estopped');
    expect(gate.reason).toMatch(/latched before this start/);
    expect(gate.arm()).toEqual({ ok: false, reason: expect.stringMatching(/e-stop is active/) });
    expect(gate.release({ retained: true, stamp: s(2, 4) }).ok).toBe(false);
    expect(gate.state).toBe('estopped');
    expect(gate.release({ retained: false, stamp: s(2, 4) }).ok).toBe(true);
    expect(gate.state).toBe('ready');
    gate.close();
  });

  it('an unwritable latch: the node still e-stops at once, reports a fault, refuses to arm and never releases on doubt', () => {
    const { fs: f, failing } = faultyFs();
    const path = join(tmp(), 'estop-latch.json');
    const hw = new SimHardware(profile);
    const gate = new SafetyGate(profile, hw, 60000, { latch: new EstopLatch(new FileLatchStore(path, f)) });
    const events: string[] = [];
    gate.on('event', (e) => events.push(e.kind));
    gate.hubHeartbeat();
    expect(gate.arm().ok).toBe(true);
    hw.writeMotor('left-wheel', 0.5); // the wheel is turning (the last inch: written straight to the sim)
    failing.add('openSync');
    gate.estop('hub', 'smoke', s(1, 1));
    expect(hw.motors.get('left-wheel')).toBe(0); // cut first, whatever the disk says
    expect(gate.state).toBe('fault');
    expect(events).toEqual(expect.arrayContaining(['revoked', 'estop', 'latch-fault']));
    expect(gate.arm().ok).toBe(false);
    expect(gate.release({ retained: false, stamp: s(1, 2) })).toEqual({ ok: false, reason: expect.stringMatching(/cannot be written/) });
    expect(gate.state).toBe('fault');
    failing.clear(); // the disk is back: the next release is stored, and accepted
    expect(gate.release({ retained: false, stamp: s(1, 3) }).ok).toBe(true);
    expect(gate.state).toBe('ready');
    gate.close();
  });

  it('a latch that fails while armed (a release it cannot store) revokes like any fault; recovering does not revive old leases', () => {
    const { fs: f, failing } = faultyFs();
    const hw = new SimHardware(profile);
    const gate = new SafetyGate(profile, hw, 60000, { latch: new EstopLatch(new FileLatchStore(join(tmp(), 'estop-latch.json'), f)) });
    gate.hubHeartbeat();
    expect(gate.arm().ok).toBe(true);
    const lease = gate.acquire('motion')!;
    failing.add('renameSync');
    gate.release({ retained: false, stamp: s(1, 1) }); // not latched: accepted, but the file cannot be written
    expect(gate.state).toBe('fault');
    expect(lease.alive).toBe(false);
    failing.clear();
    gate.release({ retained: false, stamp: s(1, 2) }); // the disk is back
    expect(gate.state).toBe('ready');
    expect(lease.alive).toBe(false);
    expect(lease.writeServo('head-pan', 92)).toBeNull();
    gate.close();
  });
});
