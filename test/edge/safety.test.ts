/**
 * The safety rules, enforced on the node whatever the hub says. These run against the simulated
 * hardware backend (the last inch where no robot exists); the same gate drives the real backend.
 */
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { join } from 'node:path';
import { loadProfile } from '../../firmware-config/profile.ts';
import type { ProfileT } from '../../firmware-config/profile-schema.ts';
import { SimHardware } from '../../edge/hardware/sim.ts';
import { SafetyGate, type SafetyEvent } from '../../edge/safety.ts';
import { MotionController } from '../../edge/motion.ts';
import { ROOT } from '../helpers/stage.ts';

const profile: ProfileT = loadProfile(join(ROOT, 'firmware-config/profiles/sim-robot.yaml')).profile;

function rig(p: ProfileT = profile) {
  const hw = new SimHardware(p);
  const gate = new SafetyGate(p, hw, 500);
  const events: SafetyEvent[] = [];
  const states: string[] = [];
  gate.on('event', (e) => events.push(e));
  gate.on('state', (s) => states.push(s));
  const safeCalls = vi.spyOn(hw, 'safe');
  return { hw, gate, events, states, safeCalls };
}

describe('safety gate: arming', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('starts in init and cannot be armed without a hub heartbeat', () => {
    const { gate } = rig();
    expect(gate.state).toBe('init');
    expect(gate.canMove()).toBe(false);
    expect(gate.arm()).toEqual({ ok: false, reason: expect.stringMatching(/no hub heartbeat/) });
    expect(gate.state).toBe('init');
  });

  it('becomes ready on a heartbeat and armed on arm', () => {
    const { gate, states } = rig();
    gate.hubHeartbeat();
    expect(gate.state).toBe('ready');
    expect(gate.canMove()).toBe(false);
    expect(gate.arm()).toEqual({ ok: true });
    expect(gate.canMove()).toBe(true);
    expect(states).toEqual(['ready', 'armed']);
  });
});

describe('safety gate: e-stop', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('cuts the actuators at once, holds, and refuses to arm', () => {
    const { gate, hw, safeCalls } = rig();
    gate.hubHeartbeat();
    gate.arm();
    hw.writeMotor('left-wheel', 0.5);
    gate.estop('hub', 'test');
    expect(gate.state).toBe('estopped');
    expect(safeCalls).toHaveBeenCalledTimes(1);
    expect(hw.motors.get('left-wheel')).toBe(0);
    expect([...hw.servos.values()].every((v) => v === null)).toBe(true);
    expect(gate.arm()).toEqual({ ok: false, reason: expect.stringMatching(/e-stop is active/) });
    expect(gate.canMove()).toBe(false);
  });

  it('release leaves the node disarmed: motion never resumes by itself', () => {
    const { gate } = rig();
    gate.hubHeartbeat();
    gate.arm();
    gate.estop('hub', 'test');
    gate.release({ retained: false });
    expect(gate.state).toBe('ready');
    expect(gate.canMove()).toBe(false);
    expect(gate.arm().ok).toBe(true);
  });

  it('every lease is revoked with a cut cause, so running cues end', () => {
    const { gate } = rig();
    const stops: string[] = [];
    gate.on('revoked', (cause, r) => stops.push(`${cause}/${r}`));
    gate.hubHeartbeat();
    gate.estop('hub', 'smoke');
    expect(stops).toEqual(['estop/e-stop: smoke']);
  });

  it('the physical button trips locally and stays latched until released and the button is out', () => {
    const { gate, events } = rig();
    gate.hubHeartbeat();
    gate.arm();
    gate.setEstopButton(true);
    expect(gate.state).toBe('estopped');
    gate.release({ retained: false }); // a release while the button is still pressed
    expect(gate.state).toBe('estopped');
    expect(gate.arm().ok).toBe(false);
    gate.setEstopButton(false); // pulling the button out does not release by itself
    expect(gate.state).toBe('estopped');
    gate.release({ retained: false });
    expect(gate.state).toBe('ready');
    expect(events.map((e) => e.kind)).toContain('estop-button');
  });
});

describe('safety gate: watchdog', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('disarms and brings the safe pose when hub heartbeats stop for 500 ms', () => {
    const { gate, hw, events } = rig();
    const revoked = vi.fn();
    gate.on('revoked', revoked);
    gate.hubHeartbeat();
    gate.arm();
    hw.writeMotor('left-wheel', 0.4);
    vi.advanceTimersByTime(400);
    gate.hubHeartbeat(); // still alive
    vi.advanceTimersByTime(400);
    expect(gate.state).toBe('armed');
    vi.advanceTimersByTime(101);
    expect(gate.state).toBe('init');
    expect(gate.canMove()).toBe(false);
    expect(revoked).toHaveBeenCalledWith('watchdog', expect.stringMatching(/watchdog/));
    expect(hw.motors.get('left-wheel')).toBe(0);
    expect(events.find((e) => e.kind === 'watchdog')).toBeDefined();
    // Heartbeats returning do not re-arm.
    gate.hubHeartbeat();
    expect(gate.state).toBe('ready');
  });

  it('uses the configured timeout', () => {
    const hw = new SimHardware(profile);
    const gate = new SafetyGate(profile, hw, 2000);
    gate.hubHeartbeat();
    gate.arm();
    vi.advanceTimersByTime(1900);
    expect(gate.state).toBe('armed');
    vi.advanceTimersByTime(200);
    expect(gate.state).toBe('init');
  });
});

describe('safety gate: cut-outs and limits', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('turns actuators off above the temperature limit, and needs a new arm after cooling', () => {
    const { gate, safeCalls } = rig();
    gate.hubHeartbeat();
    gate.arm();
    gate.reading({ sensor: 'body-temp', kind: 'temperature', value: 59, unit: 'C' });
    expect(gate.state).toBe('armed');
    gate.reading({ sensor: 'body-temp', kind: 'temperature', value: 61, unit: 'C' });
    expect(gate.state).toBe('fault');
    expect(gate.reason).toMatch(/overheat/);
    expect(safeCalls).toHaveBeenCalled();
    gate.reading({ sensor: 'body-temp', kind: 'temperature', value: 57, unit: 'C' }); // within hysteresis
    expect(gate.state).toBe('fault');
    gate.reading({ sensor: 'body-temp', kind: 'temperature', value: 50, unit: 'C' });
    expect(gate.state).toBe('ready');
  });

  it('stops the motors near an obstacle while servos may still move', () => {
    const { gate, hw } = rig();
    gate.hubHeartbeat();
    gate.arm();
    hw.writeMotor('right-wheel', 0.5);
    gate.reading({ sensor: 'front-distance', kind: 'distance', value: 20, unit: 'cm' });
    expect(hw.motors.get('right-wheel')).toBe(0);
    expect(gate.canDrive()).toBe(false);
    expect(gate.canMove()).toBe(true);
    gate.reading({ sensor: 'front-distance', kind: 'distance', value: 27, unit: 'cm' }); // hysteresis
    expect(gate.canDrive()).toBe(false);
    gate.reading({ sensor: 'front-distance', kind: 'distance', value: 40, unit: 'cm' });
    expect(gate.canDrive()).toBe(true);
  });

  it('clamps servo angles and motor duty to the profile', () => {
    const { gate } = rig();
    expect(gate.limits.servo('head-pan', 200)).toEqual({ angle: 150, clamped: true });
    expect(gate.limits.servo('head-pan', -5)).toEqual({ angle: 30, clamped: true });
    expect(gate.limits.servo('head-pan', 100)).toEqual({ angle: 100, clamped: false });
    expect(gate.limits.servo('head-pan', Number.NaN)).toEqual({ angle: 90, clamped: true });
    expect(gate.limits.motor('left-wheel', 1)).toEqual({ duty: 0.6, clamped: true });
    expect(gate.limits.motor('left-wheel', -1)).toEqual({ duty: -0.6, clamped: true });
    expect(() => gate.limits.servo('tail', 10)).toThrow(/unknown servo/);
  });

  it('a hardware fault cuts, and recovery needs a new arm', () => {
    const { gate } = rig();
    gate.hubHeartbeat();
    gate.arm();
    gate.hardwareFailed('board lost');
    expect(gate.state).toBe('fault');
    expect(gate.arm().ok).toBe(false);
    gate.hardwareRecovered();
    expect(gate.state).toBe('ready');
  });
});

describe('motion controller under the gate', () => {
  it('never exceeds a servo speed limit or range, whatever the cue asks', async () => {
    const hw = new SimHardware(profile);
    const gate = new SafetyGate(profile, hw, 60000);
    const motion = new MotionController(profile, gate);
    const written: { t: number; a: number }[] = [];
    const orig = hw.writeServo.bind(hw);
    hw.writeServo = (id, a) => { if (id === 'head-pan') written.push({ t: performance.now(), a }); orig(id, a); };
    gate.hubHeartbeat();
    gate.arm();
    // Ask for 90° → 500° in 0 ms: the range caps it at 150°, the speed limit (180°/s) stretches it.
    const t0 = performance.now();
    await motion.moveServos({ 'head-pan': 500 }, 0, 'linear');
    const took = performance.now() - t0;
    expect(hw.servos.get('head-pan')).toBe(150);
    expect(took).toBeGreaterThan((60 / 180) * 1000 * 0.9);
    for (let i = 1; i < written.length; i++) {
      const step = Math.abs(written[i]!.a - written[i - 1]!.a);
      expect(step).toBeLessThanOrEqual((180 * 40) / 1000 + 1e-6); // at most two frames' worth per write
    }
    expect(Math.max(...written.map((w) => w.a))).toBeLessThanOrEqual(150);
    motion.close();
    gate.close();
  });

  it('reports what a cue asked beyond the profile, and what was applied', async () => {
    const hw = new SimHardware(profile);
    const gate = new SafetyGate(profile, hw, 60000);
    const reports: unknown[] = [];
    const motion = new MotionController(profile, gate, 20, (d) => reports.push(d));
    gate.hubHeartbeat();
    gate.arm();
    motion.driveMotors({ 'left-wheel': -1 }, 10);
    await motion.moveServos({ 'head-pan': 160 }, 0, 'linear');
    expect(reports).toEqual([
      { motor: 'left-wheel', asked: -1, applied: -0.6, rule: 'maxDuty' },
      { servo: 'head-pan', asked: 160, applied: 150, rule: 'range' },
    ]);
    expect(hw.motors.get('left-wheel')).toBe(0); // stopped again after its 10 ms
    motion.close();
    gate.close();
  });

  it('an e-stop mid-move stops writing at once', async () => {
    const hw = new SimHardware(profile);
    const gate = new SafetyGate(profile, hw, 60000);
    const motion = new MotionController(profile, gate);
    gate.hubHeartbeat();
    gate.arm();
    const move = motion.moveServos({ arm: 170 }, 2000);
    await new Promise((r) => setTimeout(r, 100));
    gate.estop('hub', 'test');
    const movesAtStop = hw.moves;
    await move; // resolves when cancelled
    await new Promise((r) => setTimeout(r, 100));
    expect(hw.moves).toBe(movesAtStop);
    expect(hw.servos.get('arm')).toBeNull();
    motion.close();
    gate.close();
  });

  it('nothing moves while disarmed', async () => {
    const hw = new SimHardware(profile);
    const gate = new SafetyGate(profile, hw, 60000);
    const motion = new MotionController(profile, gate);
    gate.hubHeartbeat();
    await motion.moveServos({ arm: 100 }, 100);
    motion.driveMotors({ 'left-wheel': 0.5 });
    expect(hw.moves).toBe(0);
    expect(hw.motors.get('left-wheel')).toBe(0);
    motion.close();
    gate.close();
  });
});
