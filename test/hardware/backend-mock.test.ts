/**
 * Fast unit tests of the johnny-five backend against mock-firmata: what each write puts on which
 * pin, clamping, inversion, safe(). The emulator tests cover the wire; these cover the mapping.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import mock from 'mock-firmata';
import { JohnnyFiveHardware } from '../../edge/hardware/johnny-five.ts';
import { parseProfile } from '../../firmware-config/profile.ts';
import type { FirmataIo } from '../../edge/hardware/board-link.ts';
import { gp2y0a21Cm, lm35C, tmp36C, parseW1Slave, parseMilliC, ledOutputs, motorOutputs, servoPulseUs } from '../../edge/hardware/conversions.ts';

// A Mega: enough PWM pins for every kind of output in one profile.
const profile = parseProfile('mock.yaml', `
kuroko: 1
platform: linux
boards:
  - { id: b, type: firmata, model: mega, port: /dev/mock0 }
servos:
  - { id: pan, pin: 9, min: 20, max: 160, rest: 90, maxSpeed: 90 }
  - { id: tilt, pin: 8, min: 0, max: 180, rest: 90, maxSpeed: 90, inverted: true }
motors:
  - { id: left, driver: pwm-dir, pins: { pwm: 11, dir: 4 }, maxDuty: 0.6 }
  - { id: right, driver: dual-pwm, pins: { a: 12, b: 13 }, maxDuty: 1 }
leds:
  - { id: eyes, type: rgb, pins: { r: 3, g: 5, b: 6 }, common: anode }
sensors:
  - { id: front, kind: distance, model: gp2y0a21, pin: A0, periodMs: 20 }
`).profile;

type Mocked = Record<'pinMode' | 'digitalWrite' | 'analogWrite' | 'servoConfig' | 'servoWrite' | 'analogRead', ReturnType<typeof vi.fn>>;
let io: Omit<FirmataIo, keyof Mocked> & Mocked;
let hw: JohnnyFiveHardware;
let analogCb: ((v: number) => void) | undefined;

beforeEach(async () => {
  io = new mock.Firmata() as never;
  for (const m of ['pinMode', 'digitalWrite', 'analogWrite', 'servoConfig', 'servoWrite']) (io as never as Record<string, unknown>)[m] = vi.fn();
  (io as never as Record<string, unknown>).analogRead = vi.fn((_ch: number, cb: (v: number) => void) => { analogCb = cb; });
  hw = new JohnnyFiveHardware(profile, { opener: async () => ({ io: io as never as FirmataIo, close: async () => undefined }), pingMs: 0 });
  await hw.open();
});

describe('johnny-five backend (mock-firmata)', () => {
  it('configures motor and LED pins safe on open: PWM 0, anode LEDs off (255)', () => {
    expect(io.analogWrite).toHaveBeenCalledWith(11, 0);
    expect(io.digitalWrite).toHaveBeenCalledWith(4, 0);
    expect(io.analogWrite).toHaveBeenCalledWith(3, 255);
  });

  it('attaches a servo on the first write and clamps to the profile range', () => {
    hw.writeServo('pan', 0); // clamped to 20°
    expect(io.servoConfig).toHaveBeenCalledWith(9, 544, 2400);
    expect(io.servoWrite).toHaveBeenLastCalledWith(9, Math.round(544 + (20 * 1856) / 180));
    hw.writeServo('pan', Number.NaN); // ignored
    expect(io.servoWrite).toHaveBeenCalledTimes(1);
    hw.writeServo('nope', 10); // unknown ids are ignored, not thrown
    hw.writeServo('tilt', 30); // inverted: 150° worth of pulse
    expect(io.servoWrite).toHaveBeenLastCalledWith(8, Math.round(544 + (150 * 1856) / 180));
  });

  it('drives pwm-dir and dual-pwm motors within maxDuty', () => {
    hw.writeMotor('left', -1);
    expect(io.digitalWrite).toHaveBeenLastCalledWith(4, 1);
    expect(io.analogWrite).toHaveBeenLastCalledWith(11, 153); // 0.6 * 255
    hw.writeMotor('right', -0.5);
    expect(io.analogWrite).toHaveBeenCalledWith(12, 0);
    expect(io.analogWrite).toHaveBeenLastCalledWith(13, 128);
  });

  it('writes common-anode RGB inverted', () => {
    hw.writeLed('eyes', { r: 255, g: 0, b: 100 }, 0.5);
    expect(io.analogWrite).toHaveBeenCalledWith(3, 255 - 128);
    expect(io.analogWrite).toHaveBeenCalledWith(5, 255);
    expect(io.analogWrite).toHaveBeenLastCalledWith(6, 255 - 50);
  });

  it('safe() stops motors, detaches servos, darkens LEDs, and re-attaches on the next write', () => {
    hw.writeServo('pan', 90);
    hw.writeMotor('left', 0.5);
    io.pinMode.mockClear(); io.analogWrite.mockClear();
    hw.safe('test');
    expect(io.pinMode).toHaveBeenCalledWith(9, 1); // leaving servo mode = detached
    expect(io.analogWrite).toHaveBeenCalledWith(11, 0);
    expect(io.analogWrite).toHaveBeenCalledWith(3, 255);
    io.servoConfig.mockClear();
    hw.writeServo('pan', 90);
    expect(io.servoConfig).toHaveBeenCalledTimes(1);
  });

  it('turns analog reports into distance readings', () => {
    const seen: unknown[] = [];
    hw.on('reading', (r) => seen.push(r));
    analogCb!(Math.round((1.0 / 5) * 1023));
    expect(hw.readSensors()[0]).toMatchObject({ sensor: 'front', kind: 'distance', unit: 'cm' });
    expect(seen).toHaveLength(1);
  });
});

describe('conversions', () => {
  it('maps sensors to units', () => {
    expect(gp2y0a21Cm(2.3)).toBeCloseTo(10.2, 1);
    expect(gp2y0a21Cm(1.0)).toBeCloseTo(27.7, 1);
    expect(gp2y0a21Cm(0.4)).toBe(80);
    expect(gp2y0a21Cm(3.2)).toBe(10);
    expect(lm35C(0.25)).toBe(25);
    expect(tmp36C(0.75)).toBe(25);
    expect(parseW1Slave('72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n')).toBe(23.125);
    expect(parseW1Slave('72 01 4b 46 7f ff 0e 10 57 : crc=57 NO\nt=23125\n')).toBeNull();
    expect(parseMilliC('45123\n')).toBe(45.123);
  });
  it('maps actuators to pin values', () => {
    expect(servoPulseUs({ min: 0, max: 180, inverted: true }, 0)).toBe(2400);
    expect(motorOutputs({ driver: 'pwm-dir', maxDuty: 0.5 }, 0.9)).toMatchObject({ pwm: 128, forward: true });
    expect(ledOutputs({ type: 'single', common: 'anode' }, { r: 10, g: 0, b: 0 }, 1)).toEqual([0]);
    expect(ledOutputs({ type: 'pwm' }, { r: 0, g: 200, b: 0 }, 0.5)).toEqual([100]);
  });
});

describe('supervision (mock-firmata)', () => {
  it('faults when REPORT_VERSION goes unanswered, and puts the other boards safe', async () => {
    const two = parseProfile('two.yaml', `
kuroko: 1
platform: linux
boards:
  - { id: head, type: firmata, model: uno, port: /dev/mock-head }
  - { id: base, type: firmata, model: uno, port: /dev/mock-base }
motors:
  - { id: wheel, board: base, driver: pwm-dir, pins: { pwm: 5, dir: 4 }, maxDuty: 1 }
`).profile;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a mock with spies in place of methods
    type MockIo = Record<string, any> & { emit(e: string): boolean };
    const ios = new Map<string, MockIo>();
    const b = new JohnnyFiveHardware(two, {
      pingMs: 50, answerTimeoutMs: 200, reopenMs: 10_000,
      opener: async (port) => {
        const m = new mock.Firmata() as MockIo;
        m.analogWrite = vi.fn(); m.pinMode = vi.fn(); m.digitalWrite = vi.fn();
        // the base board answers every ping; the head board never does
        m.reportVersion = vi.fn(() => { if (port.includes('base')) m.emit('reportversion'); });
        ios.set(port, m);
        return { io: m as never as FirmataIo, close: async () => undefined };
      },
    });
    const faults: string[] = [];
    b.on('fault', (r: string) => faults.push(r));
    await b.open();
    b.writeMotor('wheel', 0.5);
    expect(ios.get('/dev/mock-base')!.analogWrite).toHaveBeenLastCalledWith(5, 128);
    await new Promise((r) => setTimeout(r, 400));
    expect(faults).toHaveLength(1);
    expect(faults[0]).toMatch(/board head: .*REPORT_VERSION within 200 ms/);
    expect(ios.get('/dev/mock-base')!.analogWrite).toHaveBeenLastCalledWith(5, 0); // the wheel stopped
    await b.close();
  });
});
