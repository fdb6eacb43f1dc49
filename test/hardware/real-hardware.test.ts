/** createRealHardware: boards, e-stop, Linux sensors and camera behind one HardwareBackend. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { createRealHardware } from '../../edge/hardware/real.ts';
import type { GpioLine } from '../../edge/hardware/gpio.ts';
import { parseProfile } from '../../firmware-config/profile.ts';
import { waitFor } from './helpers.ts';

let emu: EmulatedUno;
beforeAll(async () => { emu = await EmulatedUno.start(); }, 60_000);
afterAll(async () => { await emu?.stop(); });

describe('createRealHardware', () => {
  it('drives the board and reports e-stop, temperatures and motion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kreal-'));
    writeFileSync(join(dir, 'temp'), '51000\n');
    const { profile } = parseProfile('real.yaml', `
kuroko: 1
platform: rpi5
boards:
  - { id: head, type: firmata, model: uno, port: "${emu.ptyPath}" }
servos:
  - { id: jaw, pin: 10, min: 0, max: 30, rest: 0, maxSpeed: 600, role: jaw }
sensors:
  - { id: cpu, kind: temperature, model: thermal-zone, path: "${join(dir, 'temp')}", periodMs: 100 }
  - { id: eye, kind: camera, source: testsrc, width: 96, height: 72, fps: 15, motionThreshold: 0.02 }
gpio:
  chipOffset: 512
  estop: { line: 17, debounceMs: 10 }
`);
    let line: (GpioLine & { fire(v: 0 | 1): void }) | null = null;
    let gpioNumber = -1;
    const hw = createRealHardware(profile, {
      gpio: {
        factory: (n) => {
          gpioNumber = n;
          let cb: ((e: Error | null | undefined, v: 0 | 1) => void) | null = null;
          let v: 0 | 1 = 0;
          line = { readSync: () => v, watch: (c) => { cb = c; }, unwatchAll: () => { cb = null; }, unexport: () => undefined, fire: (x) => { v = x; cb?.(null, x); } };
          return line;
        },
      },
    });
    const estop: boolean[] = [];
    const motion: unknown[] = [];
    hw.on('estop-input', (p: boolean) => estop.push(p));
    hw.on('motion', (m: unknown) => motion.push(m));
    await hw.open();
    try {
      expect(hw.kind).toBe('johnny-five');
      expect(gpioNumber).toBe(529);
      hw.writeServo('jaw', 30);
      await waitFor('jaw pulse', async () => EmulatedUno.hardwarePulseUs(await emu.state(), 10) === Math.round(544 + (30 * 1856) / 180));
      line!.fire(1);
      expect(estop).toEqual([true]);
      await waitFor('thermal zone reading', () => hw.readSensors().find((r) => r.sensor === 'cpu' && r.value === 51));
      await waitFor('camera motion', () => motion.length > 0, 8000);
      hw.safe('test');
      await waitFor('jaw detached', async () => EmulatedUno.hardwarePulseUs(await emu.state(), 10) === 0);
    } finally {
      await hw.close();
    }
  }, 20_000);
});
