/**
 * A node's moving parts (gate, motion, cue executor, jaw, LEDs) around any hardware backend, and
 * one function that asks every one of them to write something: the ownership tests run it in each
 * stopped state and check that nothing reached the hardware.
 */
import type { ProfileT } from '../../firmware-config/profile-schema.ts';
import type { HardwareBackend } from '../../edge/hardware/types.ts';
import { SafetyGate, type GateOptions } from '../../edge/safety.ts';
import { MotionController } from '../../edge/motion.ts';
import { CueExecutor } from '../../edge/cue-executor.ts';
import { ShowClock } from '../../edge/show-clock.ts';
import { SimVoice } from '../../edge/voice/sim-voice.ts';
import type { CommandLease } from '../../edge/command-lease.ts';
import { newCueId } from '../../hub/playback.ts';
import type { CueT } from '../../protocol/index.ts';

export const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function buildRig(profile: ProfileT, hardware: HardwareBackend, watchdogMs = 300, opts: GateOptions = {}) {
  const gate = new SafetyGate(profile, hardware, watchdogMs, opts);
  const motion = new MotionController(profile, gate);
  const clock = new ShowClock();
  clock.observe(10000, 'epoch-a');
  const acks: { cue: string; status: string; reason?: string }[] = [];
  const executor = new CueExecutor({
    profile, voice: new SimVoice(5, 200), gate, motion, clock,
    sink: { ack: (cue, status, extra) => acks.push({ cue, status, reason: extra?.reason }), transcript: () => undefined },
  });
  // The hub's heartbeats, until a test stops them to trip the watchdog.
  let beat: NodeJS.Timeout | null = null;
  const heartbeats = (on: boolean) => {
    if (beat) clearInterval(beat);
    beat = null;
    if (on) { gate.hubHeartbeat(); beat = setInterval(() => gate.hubHeartbeat(), 40); }
  };
  heartbeats(true);
  const close = () => { heartbeats(false); motion.close(); gate.close(); };
  return { gate, motion, executor, clock, acks, heartbeats, close };
}
export type Rig = ReturnType<typeof buildRig>;

function cue(clock: ShowClock, kind: CueT['kind'], params: Record<string, unknown>, inMs = 20): CueT {
  const at = clock.showNow() + inMs;
  return { v: 1, id: newCueId(), scene: 's', seq: 0, at, deadline: at + 1000, ts: Date.now(), kind, params } as CueT;
}

export interface Targets { servo: string; jaw: string; motor: string; led: string; gesture: string }

/** Asks every module to write, and every stale lease too; resolves once they had time to. */
export async function tryEveryModule(rig: Rig, t: Targets, stale: CommandLease[]): Promise<void> {
  const { motion, executor, clock } = rig;
  void motion.moveServos({ [t.servo]: 120 }, 60);
  motion.driveMotors({ [t.motor]: 0.5 }, 60);
  void motion.followEnvelope(t.jaw, { frameMs: 20, values: [1, 0.5, 1, 0.5, 1] });
  executor.receive(cue(clock, 'motion', { servos: { [t.servo]: 60 }, motors: { [t.motor]: -0.4 }, durationMs: 60 }));
  executor.receive(cue(clock, 'gesture', { name: t.gesture }));
  executor.receive(cue(clock, 'light', { led: t.led, color: '#ff0000', brightness: 1 }));
  // A line may be spoken unarmed (a voice does not move), but its emotion LED and its jaw may not.
  executor.receive(cue(clock, 'line', { character: 'ann', text: 'Not a move, only words.', emotion: 'joy', intensity: 1 }));
  for (const l of stale) {
    l.writeServo(t.servo, 45);
    l.writeMotor(t.motor, 0.5);
    l.writeLed(t.led, { r: 255, g: 0, b: 0 }, 1);
  }
  await settle(250);
}
