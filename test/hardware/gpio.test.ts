/** E-stop input: Bookworm GPIO offsets, debouncing, and the event the node trips on. */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectGpioOffset } from '../../edge/hardware/gpio-offset.ts';
import { GpioEstop, type GpioLine } from '../../edge/hardware/gpio.ts';
import { LinuxSensors } from '../../edge/hardware/linux-sensors.ts';
import { sleep } from './helpers.ts';

function fakeSysfs(chips: Array<[number, string]>): string {
  const root = mkdtempSync(join(tmpdir(), 'kgpio-'));
  for (const [base, label] of chips) {
    const d = join(root, 'class', 'gpio', `gpiochip${base}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'base'), `${base}\n`);
    writeFileSync(join(d, 'label'), `${label}\n`);
    writeFileSync(join(d, 'ngpio'), '54\n');
  }
  return root;
}

class FakeLine implements GpioLine {
  value: 0 | 1 = 0;
  cb: ((e: Error | null | undefined, v: 0 | 1) => void) | null = null;
  unexported = false;
  readSync() { return this.value; }
  watch(cb: (e: Error | null | undefined, v: 0 | 1) => void) { this.cb = cb; }
  unwatchAll() { this.cb = null; }
  unexport() { this.unexported = true; }
  set(v: 0 | 1) { this.value = v; this.cb?.(null, v); }
}

describe('GPIO', () => {
  it('detects the Bookworm offsets: 512 on a Pi 4, 571 on a Pi 5, 0 on older kernels', () => {
    expect(detectGpioOffset(fakeSysfs([[512, 'pinctrl-bcm2711'], [566, 'raspberrypi-exp-gpio']]))).toBe(512);
    expect(detectGpioOffset(fakeSysfs([[512, 'gpio-brcmstb@107d508500'], [571, 'pinctrl-rp1'], [625, 'gpio-brcmstb@107d517c00']]))).toBe(571);
    expect(detectGpioOffset(fakeSysfs([[0, 'pinctrl-bcm2835'], [504, 'raspberrypi-exp-gpio']]))).toBe(0);
    expect(() => detectGpioOffset(mkdtempSync(join(tmpdir(), 'kgpio-none-')))).toThrow(/no sysfs GPIO.*JetPack/);
  });

  it('reports a press at once and a release only once the line is stable', async () => {
    const line = new FakeLine();
    let opened = -1;
    const estop = new GpioEstop({ line: 17, debounceMs: 30, sysfsRoot: fakeSysfs([[571, 'pinctrl-rp1']]), factory: (n) => { opened = n; return line; } });
    const events: boolean[] = [];
    estop.on('estop-input', (p: boolean) => events.push(p));
    estop.open();
    expect(opened).toBe(588); // BCM 17 on a Pi 5
    line.set(1); line.set(0); line.set(1); // a bouncy press
    expect(events).toEqual([true]);
    line.set(0); await sleep(10); line.set(1); await sleep(10); line.set(0); // bouncy release
    await sleep(60);
    expect(events).toEqual([true, false]);
    estop.close();
    expect(line.unexported).toBe(true);
  });

  it('starts stopped when the button is already pressed', () => {
    const line = new FakeLine();
    line.value = 1;
    const estop = new GpioEstop({ line: 4, chipOffset: 0, factory: () => line });
    const events: boolean[] = [];
    estop.on('estop-input', (p: boolean) => events.push(p));
    estop.open();
    expect(events).toEqual([true]);
  });
});

describe('Linux temperature sensors', () => {
  it('reads a DS18B20 and a thermal zone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ktemp-'));
    mkdirSync(join(dir, '28-0000'));
    writeFileSync(join(dir, '28-0000', 'w1_slave'), '72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n');
    writeFileSync(join(dir, 'temp'), '48900\n');
    const s = new LinuxSensors([
      { id: 'motor-temp', kind: 'temperature', model: 'ds18b20', path: join(dir, '28-0000') },
      { id: 'cpu', kind: 'temperature', model: 'thermal-zone', path: join(dir, 'temp') },
    ]);
    s.open();
    await sleep(50);
    s.close();
    expect(s.readSensors().sort((a, b) => a.sensor.localeCompare(b.sensor))).toEqual([
      { sensor: 'cpu', kind: 'temperature', value: 48.9, unit: 'C' },
      { sensor: 'motor-temp', kind: 'temperature', value: 23.1, unit: 'C' },
    ]);
  });
});
