/** Hardware profiles: the sample loads; each impossible profile is refused naming the field. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadProfile, parseProfile } from '../../firmware-config/profile.ts';

const sample = fileURLToPath(new URL('../../firmware-config/profiles/sample-robot.yaml', import.meta.url));

function problems(yaml: string): string {
  try {
    parseProfile('bad.yaml', yaml);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('profile was accepted');
}

const head = `kuroko: 1
platform: rpi4
boards:
  - { id: head, type: firmata, model: uno, port: /dev/ttyACM0 }
`;

describe('hardware profiles', () => {
  it('accepts the sample robot with everything the issue asks for', () => {
    const { profile } = loadProfile(sample);
    expect(profile.servos?.map((s) => s.role)).toEqual(['head-pan', 'head-tilt', 'jaw']);
    expect(profile.motors).toHaveLength(2);
    expect(profile.leds?.[0]?.type).toBe('rgb');
    const kinds = profile.sensors?.map((s) => `${s.kind}:${'model' in s ? s.model : s.source}`);
    expect(kinds).toEqual(['distance:gp2y0a21', 'temperature:lm35', 'camera:v4l2']);
    expect(profile.gpio?.estop?.line).toBe(17);
  });

  it('refuses a pin used twice, naming both fields', () => {
    const msg = problems(`${head}servos:\n  - { id: a, pin: 9, min: 0, max: 180, rest: 90, maxSpeed: 90 }\nleds:\n  - { id: eye, type: pwm, pin: 9 }\n`);
    expect(msg).toMatch(/bad\.yaml:\d+:\d+ leds\[0\]: pin 9 is already used by servos\.0/);
  });

  it('treats "A0" and 14 as the same pin on an Uno', () => {
    const msg = problems(`${head}sensors:\n  - { id: d, kind: distance, model: gp2y0a21, pin: A0 }\n  - { id: t, kind: temperature, model: lm35, pin: 14 }\n`);
    expect(msg).toMatch(/sensors\[1\]: pin 14 is already used by sensors\.0/);
  });

  it('refuses a servo range outside 0..180°', () => {
    expect(problems(`${head}servos:\n  - { id: a, pin: 9, min: 0, max: 200, rest: 90, maxSpeed: 90 }\n`)).toMatch(/servos\[0\]\.max: servo range 0\.\.200° is outside 0\.\.180°/);
    expect(problems(`${head}servos:\n  - { id: a, pin: 9, min: -10, max: 90, rest: 0, maxSpeed: 90 }\n`)).toMatch(/servos\[0\]\.min: .*outside 0\.\.180°/);
  });

  it.each([
    ['a servo', 'servos:\n  - { id: a, pin: 7, min: 0, max: 180, rest: 90, maxSpeed: 90 }\n', /servos\[0\]\.pin: pin 7 has no PWM on a uno \(PWM pins: 3, 5, 6, 9, 10, 11\)/],
    ['a motor pwm pin', 'motors:\n  - { id: m, driver: pwm-dir, pins: { pwm: 4, dir: 5 }, maxDuty: 0.5 }\n', /motors\[0\]\.pins\.pwm: pin 4 has no PWM/],
    ['a dual-pwm leg', 'motors:\n  - { id: m, driver: dual-pwm, pins: { a: 3, b: 12 }, maxDuty: 0.5 }\n', /motors\[0\]\.pins\.b: pin 12 has no PWM/],
    ['a pwm LED', 'leds:\n  - { id: l, type: pwm, pin: 13 }\n', /leds\[0\]\.pin: pin 13 has no PWM/],
    ['an RGB LED channel', 'leds:\n  - { id: l, type: rgb, pins: { r: 3, g: 5, b: 8 } }\n', /leds\[0\]\.pins\.b: pin 8 has no PWM/],
  ])('refuses PWM on a pin without it: %s', (_what, body, expected) => {
    expect(problems(head + body)).toMatch(expected);
  });

  it('knows the Mega has more PWM pins', () => {
    const ok = parseProfile('mega.yaml', `kuroko: 1\nplatform: linux\nboards:\n  - { id: m, type: firmata, model: mega, port: /dev/ttyACM0 }\nservos:\n  - { id: a, pin: 44, min: 0, max: 180, rest: 90, maxSpeed: 90 }\n  - { id: b, pin: 7, min: 0, max: 180, rest: 90, maxSpeed: 90 }\n`);
    expect(ok.profile.servos).toHaveLength(2);
  });

  it('refuses serial pins, missing pins, non-analog sensor pins and unknown boards', () => {
    expect(problems(`${head}leds:\n  - { id: l, type: single, pin: 1 }\n`)).toMatch(/leds\[0\]\.pin: pin 1 is the serial link/);
    expect(problems(`${head}leds:\n  - { id: l, type: single, pin: 40 }\n`)).toMatch(/pin 40 does not exist as a digital pin on a uno/);
    expect(problems(`${head}sensors:\n  - { id: t, kind: temperature, model: lm35, pin: 7 }\n`)).toMatch(/sensors\[0\]\.pin: pin 7 is not an analog input on a uno/);
    expect(problems(`${head}servos:\n  - { id: a, board: tail, pin: 9, min: 0, max: 180, rest: 90, maxSpeed: 90 }\n`)).toMatch(/servos\[0\]\.board: unknown board "tail"/);
  });

  it('refuses wrong motor pin sets and two boards on one port', () => {
    expect(problems(`${head}motors:\n  - { id: m, driver: pwm-dir, pins: { pwm: 5 }, maxDuty: 0.5 }\n`)).toMatch(/motors\[0\]\.pins: a pwm-dir motor needs pins\.pwm and pins\.dir/);
    expect(problems(`kuroko: 1\nplatform: linux\nboards:\n  - { id: a, type: firmata, model: uno, port: /dev/ttyACM0 }\n  - { id: b, type: firmata, model: nano, port: /dev/ttyACM0 }\n`)).toMatch(/boards\[1\]\.port: port \/dev\/ttyACM0 is already used by boards\.0/);
  });

  it('refuses a servo pulse range below what Firmata reads as microseconds', () => {
    expect(problems(`${head}servos:\n  - { id: a, pin: 9, min: 0, max: 180, rest: 90, maxSpeed: 90, pulseUs: { min: 500, max: 2400 } }\n`)).toMatch(/servos\[0\]\.pulseUs\.min/);
  });
});
