/**
 * The gate owns the hardware: a disarmed, e-stopped, watchdog-tripped, faulted or overheated node
 * produces no hardware write through any module (motion, cue executor, jaw, LEDs), and a lease
 * revoked under a module stays dead after a re-arm. The backend is the simulated one with every
 * call recorded (the last inch where no robot exists); test/hardware/gate-uno.test.ts does the same
 * on the emulated Uno, byte by byte.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { loadProfile } from '../../firmware-config/profile.ts';
import { SimHardware } from '../../edge/hardware/sim.ts';
import type { Rgb } from '../../edge/hardware/types.ts';
import type { CommandLease } from '../../edge/command-lease.ts';
import { ROOT } from '../helpers/stage.ts';
import { waitFor } from '../helpers/wait.ts';
import { buildRig, settle, tryEveryModule, type Rig } from './gate-rig.ts';

const profile = loadProfile(join(ROOT, 'firmware-config/profiles/sim-robot.yaml')).profile;
const targets = { servo: 'head-pan', jaw: 'jaw', motor: 'left-wheel', led: 'eyes', gesture: 'nod' };

/** The simulated backend, recording every call the gate makes on it. */
class RecordingSim extends SimHardware {
  readonly calls: string[] = [];
  override writeServo(id: string, a: number): void { this.calls.push(`servo ${id} ${a.toFixed(1)}`); super.writeServo(id, a); }
  override writeMotor(id: string, d: number): void { this.calls.push(`motor ${id} ${d}`); super.writeMotor(id, d); }
  override writeLed(id: string, c: Rgb, b: number): void { this.calls.push(`led ${id} ${c.r},${c.g},${c.b} ${b}`); super.writeLed(id, c, b); }
  override safe(reason: string): void { this.calls.push(`safe ${reason}`); super.safe(reason); }
  writes(): string[] { return this.calls.filter((c) => !c.startsWith('safe')); }
}

let rigs: Rig[] = [];
afterEach(() => { rigs.forEach((r) => r.close()); rigs = []; });

function setup() {
  const hw = new RecordingSim(profile);
  const rig = buildRig(profile, hw);
  rigs.push(rig);
  return { hw, rig };
}

/** Arms, lends leases to "modules", starts a move and a light: a node mid-show. */
async function midShow(rig: Rig): Promise<CommandLease[]> {
  expect(rig.gate.arm()).toEqual({ ok: true });
  const stale = [rig.gate.acquire('held-by-motion')!, rig.gate.acquire('held-by-cue')!];
  expect(stale.every((l) => l.alive)).toBe(true);
  void rig.motion.moveServos({ arm: 160 }, 2000);
  rig.motion.driveMotors({ 'right-wheel': 0.3 });
  stale[1]!.writeLed('eyes', { r: 0, g: 255, b: 0 }, 1);
  await settle(60);
  return stale;
}

/** Waits until the gate's own safe outputs are done (a watchdog or disarm glides to rest). */
async function quiet(rig: Rig, hw: RecordingSim): Promise<void> {
  await waitFor('safe pose done', () => !rig.gate.settling, 5000);
  hw.calls.length = 0;
}

const stops: [string, (rig: Rig, hw: RecordingSim) => void | Promise<void>][] = [
  ['disarmed', (rig) => rig.gate.disarm('test')],
  ['e-stopped', (rig) => rig.gate.estop('console', 'test')],
  ['watchdog-tripped', async (rig) => { rig.heartbeats(false); await waitFor('watchdog', () => rig.gate.state === 'init', 3000); }],
  ['faulted', (_rig, hw) => { hw.emit('fault', 'board lost (simulated)'); }],
  ['over-temperature', (_rig, hw) => hw.setReading('body-temp', 75)],
];

describe('the safety gate owns the hardware (simulated backend, every call recorded)', () => {
  it('a node never armed writes nothing through any module', async () => {
    const { hw, rig } = setup();
    await settle(50);
    hw.calls.length = 0;
    expect(rig.gate.acquire('motion')).toBeNull();
    await tryEveryModule(rig, targets, []);
    expect(hw.writes()).toEqual([]);
    expect(hw.moves).toBe(0);
    expect(rig.acks.filter((a) => a.status === 'rejected').map((a) => a.reason)).toEqual([
      expect.stringMatching(/not armed/), expect.stringMatching(/not armed/), expect.stringMatching(/not armed/),
    ]);
  });

  it.each(stops)('a %s node writes nothing through any module, and its revoked leases are refused and counted', async (name, stop) => {
    const { hw, rig } = setup();
    const stale = await midShow(rig);
    expect(hw.writes().length).toBeGreaterThan(0); // it was really moving
    const before = hw.calls.length;
    await stop(rig, hw);
    // Stopping was not blocked: the gate wrote the safe outputs itself, at once.
    const safeOutputs = hw.calls.slice(before);
    if (name === 'disarmed' || name === 'watchdog-tripped') expect(safeOutputs).toContain('motor left-wheel 0');
    else expect(safeOutputs[0]).toMatch(/^safe /);
    expect(safeOutputs).toContain('led eyes 0,0,0 0'); // LED policy: a stopped node is dark
    expect(stale.every((l) => !l.alive)).toBe(true);
    await quiet(rig, hw);
    const refusedBefore = rig.gate.refused.total;
    await tryEveryModule(rig, targets, stale);
    expect(hw.writes()).toEqual([]);
    expect(rig.gate.refused.total - refusedBefore).toBe(stale.length * 3);
    expect(rig.gate.refused.byHolder.get('held-by-cue')).toBeGreaterThanOrEqual(3);
    expect(rig.gate.acquire('motion')).toBeNull();
  });

  const rearm: [string, (rig: Rig, hw: RecordingSim) => void | Promise<void>, (rig: Rig, hw: RecordingSim) => void | Promise<void>][] = [
    ['disarm', (rig) => rig.gate.disarm('test'), () => undefined],
    ['e-stop', (rig) => rig.gate.estop('hub', 'test', { epoch: 1, seq: 1 }), (rig) => { expect(rig.gate.release({ retained: false, stamp: { epoch: 1, seq: 2 } }).ok).toBe(true); }],
    ['watchdog', async (rig) => { rig.heartbeats(false); await waitFor('watchdog', () => rig.gate.state === 'init', 3000); }, (rig) => rig.heartbeats(true)],
    ['fault', (_rig, hw) => { hw.emit('fault', 'board lost (simulated)'); }, (_rig, hw) => { hw.emit('recovered'); }],
    ['over-temperature', (_rig, hw) => hw.setReading('body-temp', 75), (_rig, hw) => hw.setReading('body-temp', 40)],
  ];

  it.each(rearm)('a lease revoked by %s stays dead after a re-arm; only a new lease writes', async (_name, stop, recover) => {
    const { hw, rig } = setup();
    const stale = await midShow(rig);
    await stop(rig, hw);
    await recover(rig, hw);
    await quiet(rig, hw);
    expect(rig.gate.arm()).toEqual({ ok: true });
    await settle(100);
    // The move that was running when the lease died does not resume after the re-arm.
    expect(hw.writes()).toEqual([]);
    for (const l of stale) {
      expect(l.alive).toBe(false);
      expect(l.writeServo('head-pan', 45)).toBeNull();
      expect(l.writeMotor('left-wheel', 0.5)).toBeNull();
      expect(l.writeLed('eyes', { r: 1, g: 2, b: 3 }, 1)).toBe(false);
    }
    expect(hw.writes()).toEqual([]);
    const fresh = rig.gate.acquire('motion')!;
    expect(fresh.alive).toBe(true);
    expect(fresh.writeServo('head-pan', 92)).toBe(92); // within one frame's travel at 180°/s
    expect(hw.writes()).toEqual(['servo head-pan 92.0']);
  });

  it('the gate clamps what a lease writes: range, speed, duty, brightness', async () => {
    const { hw, rig } = setup();
    rig.gate.arm();
    const l = rig.gate.acquire('test')!;
    await settle(30);
    // 90° → 500°: the range caps at 150°, the speed limit (180°/s) allows at most 40 ms of travel.
    const a = l.writeServo('head-pan', 500)!;
    expect(a).toBeGreaterThan(90);
    expect(a).toBeLessThanOrEqual(90 + 180 * 0.04 + 1e-6);
    expect(l.writeMotor('left-wheel', 1)).toBe(0.6);
    expect(l.writeMotor('left-wheel', Number.NaN)).toBe(0);
    expect(l.writeLed('eyes', { r: 300, g: -5, b: 10.4 }, 7)).toBe(true);
    expect(hw.leds.get('eyes')).toEqual({ color: { r: 255, g: 0, b: 10 }, brightness: 1 });
    hw.setReading('front-distance', 10); // an obstacle: motors may not turn, servos still may
    expect(l.writeMotor('left-wheel', 0.5)).toBe(0);
    expect(l.alive).toBe(true);
  });

  it('LED policy: lights need the arm; armed, a light cue and an emotion line light the eyes', async () => {
    const { hw, rig } = setup();
    rig.gate.arm();
    rig.executor.receive({ v: 1, id: '01jz0000000000000000000001', scene: 's', seq: 0, at: rig.clock.showNow() + 10, deadline: rig.clock.showNow() + 1000, ts: Date.now(), kind: 'light', params: { led: 'eyes', color: '#00ff00', brightness: 0.5 } });
    await waitFor('eyes lit', () => hw.leds.get('eyes')?.brightness === 0.5, 2000);
    rig.gate.disarm('test');
    expect(hw.leds.get('eyes')?.brightness).toBe(0);
  });
});
