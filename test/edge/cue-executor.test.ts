import { describe, it, expect, afterEach } from 'vitest';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadProfile } from '../../firmware-config/profile.ts';
import { SimHardware } from '../../edge/hardware/sim.ts';
import { SimVoice } from '../../edge/voice/sim-voice.ts';
import { SafetyGate } from '../../edge/safety.ts';
import { MotionController } from '../../edge/motion.ts';
import { ShowClock } from '../../edge/show-clock.ts';
import { CueExecutor } from '../../edge/cue-executor.ts';
import { newCueId } from '../../hub/playback.ts';
import type { CueT } from '../../protocol/index.ts';
import { ROOT } from '../helpers/stage.ts';

const profile = loadProfile(join(ROOT, 'firmware-config/profiles/sim-robot.yaml')).profile;
const closers: (() => void)[] = [];
afterEach(() => { closers.splice(0).forEach((c) => c()); });

function rig() {
  const hw = new SimHardware(profile);
  const gate = new SafetyGate(profile, hw, 60000);
  const motion = new MotionController(profile, gate);
  const clock = new ShowClock();
  clock.observe(10000, 'epoch-a'); // show time = local + (10000 - now)
  const acks: { cue: string; status: string; reason?: string; at: number }[] = [];
  const lines: string[] = [];
  const ex = new CueExecutor({
    profile, voice: new SimVoice(5, 50), gate, motion, clock,
    sink: { ack: (cue, status, extra) => acks.push({ cue, status, reason: extra?.reason, at: clock.showNow() }), transcript: (l) => lines.push(l.text) },
  });
  closers.push(() => { motion.close(); gate.close(); });
  gate.hubHeartbeat();
  return { hw, gate, clock, ex, acks, lines };
}

function cue(clock: ShowClock, kind: CueT['kind'], params: Record<string, unknown>, inMs = 50): CueT {
  const at = clock.showNow() + inMs;
  return { v: 1, id: newCueId(), scene: 's', seq: 0, at, deadline: at + 500, ts: Date.now(), kind, params } as CueT;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cue executor', () => {
  it('starts a cue at its show-clock time and acks accepted, started, done', async () => {
    const { ex, clock, acks, lines } = rig();
    const c = cue(clock, 'line', { character: 'kenzaki', text: 'Hello there.' }, 80);
    ex.receive(c);
    await settle(400);
    expect(acks.map((a) => a.status)).toEqual(['accepted', 'started', 'done']);
    const started = acks.find((a) => a.status === 'started')!;
    expect(started.at).toBeGreaterThanOrEqual(c.at - 2);
    expect(started.at).toBeLessThan(c.at + 40);
    expect(lines).toEqual(['Hello there.']);
  });

  it('drops a repeated cue id (QoS 1 may deliver twice)', async () => {
    const { ex, clock, acks } = rig();
    const c = cue(clock, 'wait', { durationMs: 10 });
    ex.receive(c);
    ex.receive(c);
    await settle(200);
    expect(acks.filter((a) => a.status === 'accepted')).toHaveLength(1);
    expect(ex.duplicatesDropped.count).toBe(1);
  });

  it('refuses motion while disarmed, and nothing moves', async () => {
    const { ex, clock, acks, hw } = rig();
    ex.receive(cue(clock, 'motion', { servos: { arm: 120 }, durationMs: 100 }));
    ex.receive(cue(clock, 'gesture', { name: 'nod' }));
    await settle(200);
    expect(acks.map((a) => a.status)).toEqual(['rejected', 'rejected']);
    expect(acks[0]!.reason).toMatch(/not armed/);
    expect(hw.moves).toBe(0);
  });

  it('refuses a cue that arrives after its deadline, and unknown actuators', () => {
    const { ex, clock, acks, gate } = rig();
    gate.arm();
    const late = cue(clock, 'wait', { durationMs: 10 }, -1000);
    ex.receive(late);
    ex.receive(cue(clock, 'motion', { servos: { tail: 10 } }));
    ex.receive(cue(clock, 'gesture', { name: 'backflip' }));
    expect(acks.map((a) => a.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(acks[0]!.reason).toMatch(/late/);
    expect(acks[1]!.reason).toMatch(/no servo "tail"/);
    expect(acks[2]!.reason).toMatch(/no gesture "backflip"/);
  });

  it('an e-stop fails scheduled and running cues', async () => {
    const { ex, clock, acks, gate } = rig();
    gate.arm();
    ex.receive(cue(clock, 'line', { character: 'kenzaki', text: 'A long line that is being spoken right now.' }, 10));
    ex.receive(cue(clock, 'gesture', { name: 'nod' }, 300));
    await settle(60);
    gate.estop('hub', 'test');
    await settle(50);
    const failed = acks.filter((a) => a.status === 'failed');
    expect(failed).toHaveLength(2);
    expect(failed.every((a) => /e-stop/.test(a.reason ?? ''))).toBe(true);
    expect(ex.runningCount).toBe(0);
  });

  it('the show clock estimate takes the least-delayed heartbeat', () => {
    let now = 1000;
    const clock = new ShowClock(50, () => now);
    clock.observe(5000, 'e', 1010); // delayed by 10 ms
    clock.observe(5100, 'e', 1102); // delayed by 2 ms
    expect(clock.offsetMs).toBe(3998);
    now = 1200;
    expect(clock.showNow()).toBe(5198);
    clock.observe(100, 'new-epoch', 1300); // a restarted hub resets the estimate
    expect(clock.offsetMs).toBe(-1200);
    expect(performance.now()).toBeGreaterThan(0);
  });

  it('speaks the parts of a streamed line in order, each when the one before ends, and journals one line', async () => {
    const { ex, clock, acks, lines } = rig();
    // Both parts arrive at once (the hub sends each as soon as it is written): the second waits
    // for the first (40 characters at 5 ms = 200 ms) instead of talking over it.
    const a = cue(clock, 'line', { character: 'kenzaki', text: 'We cross the river tonight, before dawn,', part: { line: 'l1', index: 0, last: false } }, 30);
    const b = cue(clock, 'line', { character: 'kenzaki', text: 'or we never cross at all.', part: { line: 'l1', index: 1, last: true } }, 40);
    ex.receive(a);
    ex.receive(b);
    await settle(600);
    const at = (id: string, status: string) => acks.find((x) => x.cue === id && x.status === status)!.at;
    expect(at(b.id, 'started')).toBeGreaterThanOrEqual(at(a.id, 'done') - 2);
    // Back to back: no cue lead between them.
    expect(at(b.id, 'started') - at(a.id, 'done')).toBeLessThan(40);
    expect(lines).toEqual(['We cross the river tonight, before dawn, or we never cross at all.']);
  });

  it('a stop ends a part still waiting for the one before it', async () => {
    const { ex, clock, acks } = rig();
    const a = cue(clock, 'line', { character: 'kenzaki', text: 'We cross the river tonight, before dawn,', part: { line: 'l2', index: 0, last: false } }, 20);
    const b = cue(clock, 'line', { character: 'kenzaki', text: 'or we never cross at all.', part: { line: 'l2', index: 1, last: true } }, 30);
    ex.receive(a);
    ex.receive(b);
    await settle(100);
    ex.stopAll('stop');
    await settle(100);
    expect(acks.filter((x) => x.cue === b.id).map((x) => x.status)).toEqual(['accepted', 'failed']);
    expect(ex.runningCount).toBe(0);
  });
});
