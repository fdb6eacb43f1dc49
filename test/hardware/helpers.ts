/** Shared pieces of the hardware tests: a profile for the emulated Uno, and polling. */
import { parseProfile } from '../../firmware-config/profile.ts';
import type { ProfileT } from '../../firmware-config/profile-schema.ts';

/** A one-board robot on the emulated Uno at `port`, validated like any real profile. */
export function unoProfile(port: string, extra = ''): ProfileT {
  const yaml = `
kuroko: 1
platform: linux
boards:
  - { id: body, type: firmata, model: uno, port: "${port}", failsafeMs: 300 }
servos:
  - { id: pan, pin: 9, min: 10, max: 170, rest: 90, maxSpeed: 180 }
  - { id: tilt, pin: 10, min: 0, max: 180, rest: 90, maxSpeed: 180, inverted: true }
  - { id: jaw, pin: 11, min: 0, max: 40, rest: 0, maxSpeed: 600, pulseUs: { min: 1000, max: 2000 } }
motors:
  - { id: wheel, driver: pwm-dir, pins: { pwm: 5, dir: 4 }, maxDuty: 0.5 }
  - { id: lift, driver: dual-pwm, pins: { a: 3, b: 6 }, maxDuty: 1 }
leds:
  - { id: status, type: single, pin: 13 }
sensors:
  - { id: front, kind: distance, model: gp2y0a21, pin: A0, periodMs: 20 }
  - { id: body-temp, kind: temperature, model: lm35, pin: A1, periodMs: 100 }
${extra}`;
  return parseProfile('test-uno.yaml', yaml).profile;
}

export { waitFor, sleep } from '../helpers/wait.ts';
