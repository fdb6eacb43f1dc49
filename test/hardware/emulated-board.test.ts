/**
 * The real backend (johnny-five + serialport 13) against the Kuroko firmware running in the
 * emulated Uno, over a pty, as it would against /dev/ttyACM0.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { JohnnyFiveHardware } from '../../edge/hardware/johnny-five.ts';
import type { SensorReading } from '../../edge/hardware/types.ts';
import { sleep, unoProfile, waitFor } from './helpers.ts';

let emu: EmulatedUno;
let hw: JohnnyFiveHardware | null = null;

beforeAll(async () => { emu = await EmulatedUno.start(); }, 60_000);
afterAll(async () => { await emu?.stop(); });
afterEach(async () => { await hw?.close(); hw = null; });

async function openBackend(opts: ConstructorParameters<typeof JohnnyFiveHardware>[1] = {}) {
  hw = new JohnnyFiveHardware(unoProfile(emu.ptyPath), opts);
  await hw.open();
  return hw;
}

describe('Kuroko firmware in the emulated Uno', () => {
  it('brings johnny-five to ready and identifies itself as Kuroko', async () => {
    const t0 = Date.now();
    const b = await openBackend();
    const link = b.links.get('body')!;
    expect(link.io?.firmware?.name).toBe('Kuroko');
    expect(link.io?.firmware?.version).toEqual({ major: 1, minor: 0 });
    // capability + analog mapping answered: 20 pins, A0 is pin 14
    expect(link.io?.pins.length).toBe(20);
    expect(link.io?.analogPins[0]).toBe(14);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('turns a servo command into the right pulse width (hardware and soft servo pins)', async () => {
    const b = await openBackend();
    b.writeServo('pan', 90); // 544 + 90/180 * 1856 = 1472 us
    b.writeServo('tilt', 0); // inverted: 0° -> 180° -> 2400 us
    b.writeServo('jaw', 20); // 1000 + 20/180 * 1000 = 1111 us, timed by software on pin 11
    const s = await waitFor('servo pulses', async () => {
      const st = await emu.state();
      return EmulatedUno.hardwarePulseUs(st, 9) === 1472 && EmulatedUno.hardwarePulseUs(st, 10) === 2400 && st.pulses['11'] ? st : null;
    });
    expect(s.timer1.icr1).toBe(39999); // 20 ms frame
    expect(s.pulses['11']!.widthUs).toBeGreaterThanOrEqual(1105);
    expect(s.pulses['11']!.widthUs).toBeLessThanOrEqual(1117);
    b.writeServo('pan', 500); // clamped to max 170°: 544 + 170/180*1856 = 2297
    await waitFor('clamped pulse', async () => EmulatedUno.hardwarePulseUs(await emu.state(), 9) === 2297);
  });

  it('switches the LED pin and drives motors within maxDuty', async () => {
    const b = await openBackend();
    b.writeLed('status', { r: 255, g: 255, b: 255 }, 1);
    await waitFor('LED pin 13 high', async () => (await emu.state()).levels[13] === '1');
    b.writeMotor('wheel', -1); // clamped to maxDuty 0.5 -> 128, reverse -> dir pin high
    b.writeMotor('lift', 0.25);
    const s = await waitFor('motor PWM', async () => { const st = await emu.state(); return st.pwm['5'] === 128 && st.pwm['3'] === 64 ? st : null; });
    expect(s.levels[4]).toBe('1');
    expect(s.pwm['6']).toBe(-1); // the other dual-pwm leg is held low
    b.writeLed('status', { r: 0, g: 0, b: 0 }, 0);
    await waitFor('LED pin 13 low', async () => (await emu.state()).levels[13] === '0');
  });

  it('turns injected voltages into a distance and a temperature', async () => {
    await emu.setAdc(0, 1.0); // GP2Y0A21 at 1.0 V: about 27.7 cm
    await emu.setAdc(1, 0.25); // LM35 at 250 mV: 25 °C
    const b = await openBackend();
    const seen: SensorReading[] = [];
    b.on('reading', (r: SensorReading) => seen.push(r));
    const read = await waitFor('both readings', () => {
      const rs = b.readSensors();
      return rs.length === 2 ? rs : null;
    });
    const dist = read.find((r) => r.sensor === 'front')!;
    const temp = read.find((r) => r.sensor === 'body-temp')!;
    expect(dist.unit).toBe('cm');
    expect(dist.value).toBeGreaterThan(26);
    expect(dist.value).toBeLessThan(29.5);
    expect(temp.value).toBeCloseTo(25, 0);
    await emu.setAdc(0, 2.3); // near: about 10 cm
    await waitFor('near obstacle', () => (b.readSensors().find((r) => r.sensor === 'front')?.value ?? 99) < 12);
    expect(seen.some((r) => r.sensor === 'front')).toBe(true);
  });

  it('trips the firmware failsafe when the host goes silent, and reports the host coming back', async () => {
    // pingMs 0: no supervision pings, so nothing keeps the firmware's 300 ms failsafe fed.
    const b = await openBackend({ pingMs: 0 });
    const events: Array<{ type: string; silentMs: number }> = [];
    b.on('board-failsafe', (e: { type: string; silentMs: number }) => events.push(e));
    b.writeServo('pan', 45);
    b.writeMotor('wheel', 0.4);
    await waitFor('servo and motor running', async () => { const s = await emu.state(); return s.timer1.com1a === 1 && s.pwm['5'] === 102; });
    const tripped = await waitFor('failsafe trip', () => events.find((e) => e.type === 'failsafe-tripped'), 2000);
    expect(tripped.silentMs).toBeGreaterThanOrEqual(300);
    const s = await emu.state();
    expect(s.timer1.com1a).toBe(0); // servo detached: no pulses
    expect(s.pwm['5']).toBe(-1); // motor PWM off...
    expect(s.levels[5]).toBe('0'); // ...and its pin low
    b.writeServo('pan', 45); // the host speaks again
    await waitFor('host-returned report', () => events.find((e) => e.type === 'host-returned'));
    await waitFor('servo re-attached', async () => EmulatedUno.hardwarePulseUs(await emu.state(), 9) > 0);
  });

  it('keeps the failsafe fed while supervised, faults on a hung board and recovers after it answers again', async () => {
    const b = await openBackend({ pingMs: 100, answerTimeoutMs: 1000, reopenMs: 200 });
    const events: string[] = [];
    b.on('fault', (r: string) => events.push(`fault:${r}`));
    b.on('recovered', () => events.push('recovered'));
    b.on('board-failsafe', (e: { type: string }) => events.push(e.type));
    b.writeServo('pan', 100);
    await sleep(1500); // beyond both the 300 ms failsafe and the 1 s answer timeout: pings answered, nothing trips
    expect(events.filter((e) => e !== 'status')).toEqual([]); // only the firmware's status reply
    const t0 = Date.now();
    await emu.pause();
    await waitFor('fault', () => events.find((e) => e.startsWith('fault:')), 3000);
    const faultAfter = Date.now() - t0;
    expect(faultAfter).toBeGreaterThanOrEqual(900);
    expect(faultAfter).toBeLessThan(1600);
    expect(events.find((e) => e.startsWith('fault:'))).toMatch(/REPORT_VERSION/);
    b.writeServo('pan', 120); // dropped while the board is lost: must not throw
    await emu.resume();
    await waitFor('recovered', () => events.includes('recovered'), 8000);
    b.writeServo('pan', 120);
    await waitFor('servo works after recovery', async () => EmulatedUno.hardwarePulseUs(await emu.state(), 9) === Math.round(544 + (120 * 1856) / 180));
  }, 20_000);
});
