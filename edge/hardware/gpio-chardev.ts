/**
 * GPIO through the Linux GPIO character device (/dev/gpiochipN, uAPI v2), via our kuroko_gpio
 * addon (native/gpio). For kernels without sysfs GPIO: Raspberry Pi 5 on new kernels, Jetson on
 * JetPack 6. Line numbers are the chip's own offsets (BCM numbers on a Pi), no sysfs base.
 *
 * ChardevInputLine has the shape of onoff's Gpio that GpioEstop uses, so the e-stop's debounce
 * logic is one piece of code for both backends. Active-low is done by the kernel (the line flag),
 * so events and reads are already logical: 1 = pressed.
 */
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GpioLine } from './gpio.ts';

export interface LineEvent { offset: number; rising: boolean; timestampNs: bigint; seqno: number; lineSeqno: number }
export interface ChipInfo { name: string; label: string; lines: number }
export interface LineRequest {
  offsets: number[];
  consumer?: string;
  direction?: 'input' | 'output';
  edge?: 'none' | 'rising' | 'falling' | 'both';
  bias?: 'as-is' | 'pull-up' | 'pull-down' | 'disabled';
  activeLow?: boolean;
  debounceUs?: number;
  values?: (0 | 1)[];
}

/** The addon's functions (native/gpio/src/kuroko_gpio.c). Tests replace the ioctl ones with a fake chip. */
export interface GpioBinding {
  chipInfo(path: string): ChipInfo;
  requestLines(path: string, req: LineRequest): number;
  getValues(fd: number, count: number): (0 | 1)[];
  setValues(fd: number, values: (0 | 1)[]): void;
  watch(fd: number, cb: (err: Error | undefined, events: LineEvent[] | undefined) => void): unknown;
  unwatch(watcher: unknown): void;
  close(fd: number): void;
  decodeEvents(buf: Buffer): LineEvent[];
  EVENT_SIZE: number;
}

/** Loads the addon for this machine; the error says how to get it when it is missing. */
export function loadGpioBinding(): GpioBinding {
  const require = createRequire(import.meta.url);
  // From the sources (edge/hardware/) or from dist/edge/hardware/: the addon lives at the root.
  for (const up of ['../../', '../../../']) {
    const loader = new URL(`${up}native/gpio/binding.cjs`, import.meta.url);
    if (existsSync(loader)) return (require(fileURLToPath(loader)) as { load(): GpioBinding }).load();
  }
  throw new Error('native/gpio/binding.cjs not found beside this installation');
}

/** The Raspberry Pi header chip (Pi 5: RP1), Jetson's main GPIO controllers. */
const HEADER_CHIP = /^pinctrl-(rp1|bcm2711|bcm2835|bcm2712)$|^raspberrypi-gpio$|^tegra\d*-gpio$/;

export function listChips(binding: GpioBinding, devDir = '/dev'): { path: string; info: ChipInfo }[] {
  let names: string[];
  try { names = readdirSync(devDir).filter((n) => /^gpiochip\d+$/.test(n)); } catch { return []; }
  const out: { path: string; info: ChipInfo }[] = [];
  for (const n of names.sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)))) {
    try { out.push({ path: join(devDir, n), info: binding.chipInfo(join(devDir, n)) }); } catch { /* not readable: skip */ }
  }
  return out;
}

/**
 * The chip device to use: `chip` may be a path (/dev/gpiochip4), a name (gpiochip4) or a label
 * (pinctrl-rp1); 'auto' picks the header chip by its label.
 */
export function resolveChip(binding: GpioBinding, chip: string | undefined, devDir = '/dev'): string {
  if (chip && chip !== 'auto') {
    if (chip.startsWith('/')) return chip;
    if (/^gpiochip\d+$/.test(chip)) return join(devDir, chip);
  }
  const chips = listChips(binding, devDir);
  if (!chips.length) throw new Error(`no GPIO character devices (${devDir}/gpiochip*) on this machine, or none readable (add this user to the gpio group)`);
  const byLabel = chip && chip !== 'auto' ? chips.find((c) => c.info.label === chip) : chips.find((c) => HEADER_CHIP.test(c.info.label)) ?? (chips.length === 1 ? chips[0] : undefined);
  if (!byLabel) {
    throw new Error(`cannot tell which GPIO chip to use (${chips.map((c) => `${c.info.name} "${c.info.label}" ${c.info.lines} lines`).join(', ')}); set gpio.chip in the profile`);
  }
  return byLabel.path;
}

/** One input line with edge events, shaped like onoff's Gpio for GpioEstop. */
export class ChardevInputLine implements GpioLine {
  private watchers: unknown[] = [];
  private fd: number | null;

  constructor(private readonly binding: GpioBinding, readonly chip: string, readonly offset: number, opts: { activeLow: boolean; debounceUs?: number; bias?: LineRequest['bias'] }) {
    this.fd = binding.requestLines(chip, {
      offsets: [offset], consumer: 'kuroko-estop', direction: 'input', edge: 'both',
      activeLow: opts.activeLow, bias: opts.bias ?? 'as-is', debounceUs: opts.debounceUs,
    });
  }

  readSync(): 0 | 1 {
    if (this.fd === null) throw new Error(`GPIO line ${this.offset} on ${this.chip} is closed`);
    return this.binding.getValues(this.fd, 1)[0] ?? 0;
  }

  watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void {
    if (this.fd === null) throw new Error(`GPIO line ${this.offset} on ${this.chip} is closed`);
    this.watchers.push(this.binding.watch(this.fd, (err, events) => {
      if (err) { cb(new Error(`GPIO line ${this.offset} on ${this.chip}: ${err.message}`), 0); return; }
      // Every edge, in order: a press followed by a release in one read is still a press first.
      for (const e of events ?? []) cb(null, e.rising ? 1 : 0);
    }));
  }

  unwatchAll(): void {
    for (const w of this.watchers) this.binding.unwatch(w);
    this.watchers = [];
  }

  unexport(): void {
    this.unwatchAll();
    if (this.fd !== null) { try { this.binding.close(this.fd); } catch { /* closing twice is harmless */ } }
    this.fd = null;
  }
}

/** A status output (LED, relay indicator): requested once, set many times. */
export class ChardevOutputLine {
  private fd: number | null;
  constructor(private readonly binding: GpioBinding, readonly chip: string, readonly offset: number, opts: { activeLow?: boolean; initial?: 0 | 1 } = {}) {
    this.fd = binding.requestLines(chip, { offsets: [offset], consumer: 'kuroko-status', direction: 'output', activeLow: opts.activeLow, values: [opts.initial ?? 0] });
  }
  set(value: 0 | 1): void {
    if (this.fd === null) throw new Error(`GPIO line ${this.offset} on ${this.chip} is closed`);
    this.binding.setValues(this.fd, [value]);
  }
  close(): void {
    if (this.fd !== null) { try { this.binding.close(this.fd); } catch { /* ignore */ } }
    this.fd = null;
  }
}

export type GpioBackendName = 'sysfs' | 'chardev';

/**
 * sysfs (onoff) where the kernel still has it; the character device otherwise. A profile can
 * force either with gpio.backend.
 */
export function chooseGpioBackend(pref: 'auto' | GpioBackendName | undefined, sysfsRoot = '/sys', devDir = '/dev'): GpioBackendName {
  if (pref === 'sysfs' || pref === 'chardev') return pref;
  let sysfs: string[] = [];
  try { sysfs = readdirSync(join(sysfsRoot, 'class', 'gpio')).filter((n) => n.startsWith('gpiochip')); } catch { /* none */ }
  if (sysfs.length) return 'sysfs';
  let dev: string[] = [];
  try { dev = readdirSync(devDir).filter((n) => /^gpiochip\d+$/.test(n)); } catch { /* none */ }
  if (dev.length) return 'chardev';
  throw new Error(`no GPIO on this machine: neither sysfs (${join(sysfsRoot, 'class/gpio')}) nor character devices (${devDir}/gpiochip*)`);
}
