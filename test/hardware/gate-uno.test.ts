/**
 * The gate owns the hardware, checked byte by byte on the emulated Uno running the Kuroko firmware:
 * a disarmed, e-stopped, watchdog-tripped, faulted or overheated node sends no actuator message
 * (pin mode, digital or analog write, servo config, extended analog) through any module, and the
 * board's pins say the same. Then the board is unplugged mid-motion: the gate revokes and goes safe,
 * and after the board returns the node stays disarmed, its old leases dead.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { parseProfile } from '../../firmware-config/profile.ts';
import { JohnnyFiveHardware } from '../../edge/hardware/johnny-five.ts';
import { openSerialFirmata, type IoOpener } from '../../edge/hardware/board-link.ts';
import type { CommandLease } from '../../edge/command-lease.ts';
import { buildRig, settle, tryEveryModule, type Rig } from '../edge/gate-rig.ts';
import { waitFor } from './helpers.ts';

function profileAt(port: string) {
  return parseProfile('gate-uno.yaml', `
kuroko: 1
platform: linux
boards:
  - { id: body, type: firmata, model: uno, port: "${port}", failsafeMs: 3000 }
servos:
  - { id: pan, pin: 9, min: 10, max: 170, rest: 90, maxSpeed: 180 }
  - { id: jaw, pin: 10, min: 0, max: 40, rest: 0, maxSpeed: 600, role: jaw }
motors:
  - { id: wheel, driver: pwm-dir, pins: { pwm: 5, dir: 4 }, maxDuty: 0.5 }
leds:
  - { id: eyes, type: single, pin: 13, emotion: true }
sensors:
  - { id: body-temp, kind: temperature, model: lm35, pin: A1, periodMs: 100 }
gestures:
  nod: [{ servos: { pan: 70 }, ms: 100 }, { servos: { pan: 90 }, ms: 100 }]
safety:
  maxTemperatureC: 60
`).profile;
}
// Generous supervision: on a loaded machine a late REPORT_VERSION answer must not pass for a lost
// board (the unplug test sees the port close at once anyway).
const SUPERVISION_OPTS = { pingMs: 250, answerTimeoutMs: 5000, reopenMs: 200 };
const targets = { servo: 'pan', jaw: 'jaw', motor: 'wheel', led: 'eyes', gesture: 'nod' };

/** Every byte the host sends to the board, split into Firmata messages. */
class ByteTap {
  bytes: number[] = [];
  readonly opener: IoOpener = async (path, baud) => {
    const opened = await openSerialFirmata(path, baud);
    const port = opened.io.transport as { write(data: Buffer, cb?: () => void): unknown };
    const write = port.write.bind(port);
    port.write = (data: Buffer, cb?: () => void) => { this.bytes.push(...data); return write(data, cb); };
    return opened;
  };

  /** The messages that change an output: pin mode, digital/analog writes, servo config, extended analog. */
  actuatorMessages(): string[] {
    const out: string[] = [];
    const b = this.bytes;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      if (c === 0xf0) {
        const end = b.indexOf(0xf7, i);
        const id = b[i + 1];
        if (id === 0x70 || id === 0x6f) out.push(`sysex 0x${id.toString(16)} ${b.slice(i, end + 1).join(',')}`);
        i = end < 0 ? b.length : end;
      } else if ((c & 0xf0) === 0x90 || (c & 0xf0) === 0xe0 || c === 0xf4 || c === 0xf5) {
        out.push(`0x${c.toString(16)} ${b[i + 1]},${b[i + 2]}`);
        i += 2;
      } else if ((c & 0xf0) === 0xc0 || (c & 0xf0) === 0xd0) i += 1; // report analog/digital: reads, not writes
    }
    return out;
  }
}

let emu: EmulatedUno;
let hw: JohnnyFiveHardware | null = null;
let rig: Rig | null = null;
beforeAll(async () => { emu = await EmulatedUno.start(); }, 60_000);
afterAll(async () => { await emu?.stop(); });
afterEach(async () => {
  rig?.close(); rig = null;
  await hw?.close(); hw = null;
  await emu.setAdc(1, 0.25);
});

async function open(): Promise<{ tap: ByteTap; rig: Rig; hw: JohnnyFiveHardware }> {
  await emu.setAdc(1, 0.25); // 25 °C
  const tap = new ByteTap();
  hw = new JohnnyFiveHardware(profileAt(emu.ptyPath), { opener: tap.opener, ...SUPERVISION_OPTS });
  rig = buildRig(profileAt(emu.ptyPath), hw, 300);
  await rig.gate.open();
  return { tap, rig, hw };
}

async function pins() {
  const s = await emu.state();
  return { pan: EmulatedUno.hardwarePulseUs(s, 9), jaw: EmulatedUno.hardwarePulseUs(s, 10), wheel: Math.max(0, s.pwm['5']), led: s.levels[13] };
}

async function midShow(r: Rig): Promise<CommandLease[]> {
  expect(r.gate.arm()).toEqual({ ok: true });
  const stale = [r.gate.acquire('held-by-motion')!, r.gate.acquire('held-by-cue')!];
  void r.motion.moveServos({ pan: 150 }, 3000);
  r.motion.driveMotors({ wheel: 0.4 });
  stale[1]!.writeLed('eyes', { r: 255, g: 255, b: 255 }, 1);
  await waitFor('moving', async () => { const p = await pins(); return p.pan > 0 && p.wheel > 0 && p.led === '1'; }, 5000);
  return stale;
}

const stops: [string, (r: Rig) => Promise<void>][] = [
  ['disarmed', async (r) => r.gate.disarm('test')],
  ['e-stopped', async (r) => r.gate.estop('console', 'test')],
  ['watchdog-tripped', async (r) => { r.heartbeats(false); await waitFor('watchdog', () => r.gate.state === 'init', 3000); }],
  ['over-temperature', async (r) => { await emu.setAdc(1, 0.75); await waitFor('overheat', () => r.gate.state === 'fault', 5000); }],
];

describe('the gate owns the hardware: Firmata bytes on the emulated Uno', () => {
  it('a node never armed sends no actuator message, whatever the modules ask', async () => {
    const { tap, rig: r } = await open();
    await settle(100);
    tap.bytes = [];
    await tryEveryModule(r, targets, []);
    await waitFor('the link is alive: REPORT_VERSION pings go out', () => tap.bytes.length > 0, 5000);
    expect(tap.actuatorMessages()).toEqual([]);
    expect(await pins()).toEqual({ pan: 0, jaw: 0, wheel: 0, led: '0' });
  }, 30_000);

  it.each(stops)('a %s node sends no actuator message through any module, and its pins stay safe', async (name, stop) => {
    const { tap, rig: r } = await open();
    const stale = await midShow(r);
    const t0 = performance.now();
    await stop(r);
    await waitFor('safe pose done', () => !r.gate.settling, 5000);
    await waitFor('wheel stopped and eyes dark', async () => { const p = await pins(); return p.wheel === 0 && p.led === '0'; }, 3000);
    if (name === 'e-stopped' || name === 'over-temperature') expect((await pins()).pan).toBe(0); // cut: the servo detached
    expect(performance.now() - t0).toBeLessThan(10_000);
    await settle(50);
    tap.bytes = [];
    const before = await pins();
    await tryEveryModule(r, targets, stale);
    expect(tap.actuatorMessages()).toEqual([]);
    expect(await pins()).toEqual(before);
    expect(r.gate.refused.total).toBeGreaterThanOrEqual(stale.length * 3);
  }, 30_000);

  it('a board unplugged mid-motion: the gate revokes and goes safe; back, it stays disarmed and old leases stay dead', async () => {
    const link = join(mkdtempSync(join(tmpdir(), 'kuroko-unplug-')), 'ttyKuroko');
    let board = await EmulatedUno.start({ link });
    const tap = new ByteTap();
    hw = new JohnnyFiveHardware(profileAt(link), { opener: tap.opener, ...SUPERVISION_OPTS });
    rig = buildRig(profileAt(link), hw, 300);
    const r = rig;
    const revoked: { cause: string; at: number }[] = [];
    r.gate.on('revoked', (cause) => revoked.push({ cause, at: performance.now() }));
    try {
      await r.gate.open();
      expect(r.gate.arm()).toEqual({ ok: true });
      const held = r.gate.acquire('held-by-motion')!;
      const move = r.motion.moveServos({ pan: 160 }, 4000);
      await waitFor('moving', async () => EmulatedUno.hardwarePulseUs(await board.state(), 9) > 0, 5000);
      const unplugged = performance.now();
      await board.stop(); // unplugged mid-motion
      await waitFor('fault', () => r.gate.state === 'fault', 5000);
      expect(revoked.map((x) => x.cause)).toEqual(['fault']);
      expect(revoked[0]!.at - unplugged).toBeLessThan(5000);
      await move; // the move ended with the lease
      expect(held.alive).toBe(false);
      expect(r.gate.acquire('motion')).toBeNull();
      expect(r.gate.arm().ok).toBe(false);
      tap.bytes = [];
      await tryEveryModule(r, targets, [held]); // a faulted node: every module asks, nothing is sent
      expect(tap.actuatorMessages()).toEqual([]);
      board = await EmulatedUno.start({ link }); // plugged back in
      await waitFor('recovered', () => r.gate.state === 'ready', 10_000);
      tap.bytes = [];
      await settle(300);
      // Back, but nothing moves by itself, and the lease held from before stays dead.
      expect(held.writeServo('pan', 120)).toBeNull();
      expect(tap.actuatorMessages()).toEqual([]);
      expect(EmulatedUno.hardwarePulseUs(await board.state(), 9)).toBe(0);
      expect(r.gate.arm()).toEqual({ ok: true });
      const fresh = r.gate.acquire('motion')!;
      expect(fresh.writeServo('pan', 92)).toBe(92);
      await waitFor('new lease moves the servo', async () => EmulatedUno.hardwarePulseUs(await board.state(), 9) === Math.round(544 + (92 * 1856) / 180), 5000);
    } finally {
      rig.close(); rig = null;
      await hw.close(); hw = null;
      await board.stop();
    }
  }, 60_000);
});
