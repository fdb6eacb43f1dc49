/**
 * The GPIO character-device backend (kuroko_gpio addon) against a fake chip. This machine's kernel
 * has no GPIO chips at all, so the last inch is faked: the chip's ioctls (chip info, line request,
 * read level) are stand-ins, and the line request's file descriptor is a FIFO into which the test
 * writes real `struct gpio_v2_line_event` records (48 bytes, the kernel's layout). Everything after
 * that is real: the addon's libuv watch on the fd, its decoding, and GpioEstop's debounce. What is
 * NOT tested here: the ioctls on real lines (request, bias, debounce, active-low by the kernel).
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, writeFileSync, writeSync, constants } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GpioEstop } from '../../edge/hardware/gpio.ts';
import { loadGpioBinding, chooseGpioBackend, resolveChip, type GpioBinding, type LineRequest } from '../../edge/hardware/gpio-chardev.ts';
import { ROOT } from '../helpers/stage.ts';
import { waitFor } from '../helpers/wait.ts';
import { sleep } from './helpers.ts';

let real: GpioBinding;

beforeAll(() => {
  // `npm ci` builds the addon (package.json "install"); build it here if that was skipped.
  if (!existsSync(join(ROOT, `native/gpio/lib/binding/napi-v8-linux-${process.arch}/kuroko_gpio.node`))) {
    const r = spawnSync(process.execPath, [join(ROOT, 'native/gpio/build.js'), '--no-package'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
  real = loadGpioBinding();
});

/** A kernel event record as the kernel writes it (linux/gpio.h, struct gpio_v2_line_event). */
function eventRecord(offset: number, rising: boolean, seqno: number, ns = BigInt(seqno) * 1_000_000n): Buffer {
  const b = Buffer.alloc(48);
  b.writeBigUInt64LE(ns, 0);
  b.writeUInt32LE(rising ? 1 : 2, 8); // GPIO_V2_LINE_EVENT_RISING_EDGE = 1, FALLING = 2
  b.writeUInt32LE(offset, 12);
  b.writeUInt32LE(seqno, 16);
  b.writeUInt32LE(seqno, 20);
  return b;
}

/** A fake chip: chip info and line requests answered here; the line's events come through a FIFO. */
function fakeChip(labels: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-gpiochip-'));
  const devDir = join(dir, 'dev');
  mkdirSync(devDir);
  for (const name of Object.keys(labels)) writeFileSync(join(devDir, name), '');
  const fifo = join(dir, 'events');
  execFileSync('mkfifo', [fifo]);
  const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(fifo, constants.O_WRONLY);
  const chip = {
    devDir, level: 0 as 0 | 1, requests: [] as { path: string; req: LineRequest }[], closed: [] as number[],
    send: (...records: Buffer[]) => writeSync(writeFd, Buffer.concat(records)),
    hangUp: () => closeSync(writeFd),
  };
  const binding: GpioBinding = {
    ...real,
    chipInfo: (path) => {
      const name = path.split('/').pop()!;
      if (!(name in labels)) throw Object.assign(new Error(`open ${path}: No such file or directory`), { code: 'ENOENT' });
      return { name, label: labels[name]!, lines: 54 };
    },
    requestLines: (path, req) => { chip.requests.push({ path, req }); return readFd; },
    getValues: () => [chip.level],
    close: (fd) => { chip.closed.push(fd); closeSync(fd); },
  };
  return { chip, binding, readFd };
}

describe('GPIO character device (kuroko_gpio addon, fake chip)', () => {
  it('the addon loads here and refuses what is not a GPIO chip, naming the path and the errno', () => {
    expect(real.EVENT_SIZE).toBe(48);
    expect(() => real.chipInfo('/dev/gpiochip-none')).toThrow(/open \/dev\/gpiochip-none: No such file/);
    try { real.chipInfo('/dev/null'); } catch (e) { expect((e as { code: string }).code).toBe('ENOTTY'); }
    expect(() => real.requestLines('/dev/null', { offsets: [17], edge: 'both' })).toThrow(/GPIO_V2_GET_LINE.*\/dev\/null: Inappropriate ioctl/);
    expect(() => real.requestLines('/dev/null', { offsets: [] })).toThrow(/1 to 64 line numbers/);
    const events = real.decodeEvents(Buffer.concat([eventRecord(17, true, 1, 5n), eventRecord(17, false, 2, 9n)]));
    expect(events).toEqual([
      { offset: 17, rising: true, timestampNs: 5n, seqno: 1, lineSeqno: 1 },
      { offset: 17, rising: false, timestampNs: 9n, seqno: 2, lineSeqno: 2 },
    ]);
    expect(() => real.decodeEvents(Buffer.alloc(47))).toThrow(/48-byte events/);
  });

  it('picks sysfs where it exists, else the character device, and the header chip by label', () => {
    const sys = mkdtempSync(join(tmpdir(), 'kuroko-sys-'));
    const dev = mkdtempSync(join(tmpdir(), 'kuroko-dev-'));
    expect(() => chooseGpioBackend('auto', sys, dev)).toThrow(/no GPIO on this machine/);
    writeFileSync(join(dev, 'gpiochip0'), '');
    expect(chooseGpioBackend('auto', sys, dev)).toBe('chardev');
    mkdirSync(join(sys, 'class', 'gpio', 'gpiochip512'), { recursive: true });
    expect(chooseGpioBackend('auto', sys, dev)).toBe('sysfs');
    expect(chooseGpioBackend('chardev', sys, dev)).toBe('chardev');
    const { binding, chip } = fakeChip({ gpiochip0: 'gpio-brcmstb@107d508500', gpiochip4: 'pinctrl-rp1', gpiochip10: 'gpio-brcmstb@107d517c00' });
    expect(resolveChip(binding, 'auto', chip.devDir)).toBe(join(chip.devDir, 'gpiochip4')); // Pi 5: RP1
    expect(resolveChip(binding, 'gpio-brcmstb@107d517c00', chip.devDir)).toBe(join(chip.devDir, 'gpiochip10'));
    expect(resolveChip(binding, '/dev/gpiochip7', chip.devDir)).toBe('/dev/gpiochip7');
    const two = fakeChip({ gpiochip0: 'a', gpiochip1: 'b' });
    expect(() => resolveChip(two.binding, 'auto', two.chip.devDir)).toThrow(/cannot tell which GPIO chip.*set gpio.chip/);
  });

  it('an e-stop press arrives as a kernel edge event and trips at once; the release waits out the bounce', async () => {
    const { chip, binding, readFd } = fakeChip({ gpiochip4: 'pinctrl-rp1' });
    const estop = new GpioEstop({ line: 17, debounceMs: 30, backend: 'chardev', devDir: chip.devDir, binding });
    expect(estop.sysfsNumber).toBe(17); // chip offsets: no sysfs base
    const events: boolean[] = [];
    estop.on('estop-input', (p: boolean) => events.push(p));
    estop.open();
    expect(chip.requests).toEqual([{ path: join(chip.devDir, 'gpiochip4'), req: expect.objectContaining({ offsets: [17], direction: 'input', edge: 'both', activeLow: true, consumer: 'kuroko-estop' }) }]);
    expect(events).toEqual([]);

    chip.level = 1;
    chip.send(eventRecord(17, true, 1), eventRecord(17, false, 2), eventRecord(17, true, 3)); // a bouncy press, in one read
    await waitFor('the press', () => events.length > 0, 2000);
    expect(events).toEqual([true]);

    chip.level = 0;
    chip.send(eventRecord(17, false, 4));
    await sleep(10);
    chip.level = 1;
    chip.send(eventRecord(17, true, 5));
    await sleep(5);
    chip.level = 0;
    chip.send(eventRecord(17, false, 6));
    await waitFor('the release', () => events.length > 1, 2000);
    expect(events).toEqual([true, false]);

    // a record split across two reads is still one event
    chip.level = 1;
    const rec = eventRecord(17, true, 7);
    chip.send(rec.subarray(0, 20));
    await sleep(20);
    expect(events).toEqual([true, false]);
    chip.send(rec.subarray(20));
    await waitFor('the split press', () => events.length > 2, 2000);
    expect(events).toEqual([true, false, true]);

    estop.close();
    expect(chip.closed).toEqual([readFd]);
  });

  it('starts stopped when the button is held at start, and reports a lost event source as an error', async () => {
    const { chip, binding } = fakeChip({ gpiochip0: 'tegra234-gpio' });
    chip.level = 1;
    const estop = new GpioEstop({ line: 5, backend: 'chardev', devDir: chip.devDir, binding });
    const events: boolean[] = [];
    const errors: string[] = [];
    estop.on('estop-input', (p: boolean) => events.push(p));
    estop.on('error', (e: Error) => errors.push(e.message));
    estop.open();
    expect(events).toEqual([true]);
    chip.hangUp();
    await waitFor('the error', () => errors.length > 0, 2000);
    expect(errors[0]).toMatch(/GPIO line 5 on .*gpiochip0: the GPIO event source closed/);
    estop.close();
  });
});
