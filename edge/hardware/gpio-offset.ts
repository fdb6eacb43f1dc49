/**
 * sysfs GPIO numbering. Since Raspberry Pi OS Bookworm (kernel 6.6) the SoC's GPIO chip no longer
 * starts at 0: BCM line 17 is sysfs GPIO 529 on a Pi 4 (base 512) and 588 on a Pi 5 (base 571,
 * the RP1 chip). The base is found from /sys/class/gpio/gpiochip*\/{base,label}.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface GpioChip { name: string; base: number; label: string; ngpio: number }

export function listGpioChips(sysfsRoot = '/sys'): GpioChip[] {
  const dir = join(sysfsRoot, 'class', 'gpio');
  let names: string[];
  try { names = readdirSync(dir).filter((n) => n.startsWith('gpiochip')); } catch { return []; }
  const read = (n: string, f: string) => { try { return readFileSync(join(dir, n, f), 'utf8').trim(); } catch { return ''; } };
  return names.map((name) => ({ name, base: Number(read(name, 'base')), label: read(name, 'label'), ngpio: Number(read(name, 'ngpio')) || 0 }))
    .filter((c) => Number.isFinite(c.base));
}

/** The header GPIO chip of a Raspberry Pi: the SoC pin controller (Pi 5: RP1). */
const PI_HEADER_CHIP = /^pinctrl-(rp1|bcm2711|bcm2835|bcm2712)$|^raspberrypi-gpio$/;

/** The sysfs number of BCM/header line 0 on this machine. */
export function detectGpioOffset(sysfsRoot = '/sys'): number {
  const chips = listGpioChips(sysfsRoot);
  if (!chips.length) {
    throw new Error(`no sysfs GPIO under ${join(sysfsRoot, 'class/gpio')} (JetPack 6 has none: use libgpiod there; elsewhere load the gpio-sysfs support or set gpio.chipOffset)`);
  }
  // Pi 5 shows several pinctrl-rp1-like chips; the header one is labelled exactly pinctrl-rp1.
  const pi = chips.filter((c) => PI_HEADER_CHIP.test(c.label)).sort((a, b) => a.base - b.base);
  if (pi.length) return pi.find((c) => c.label === 'pinctrl-rp1')?.base ?? pi[0]!.base;
  const zero = chips.find((c) => c.base === 0);
  if (zero) return 0;
  throw new Error(`cannot tell which GPIO chip carries the header lines (chips: ${chips.map((c) => `${c.label || c.name}@${c.base}`).join(', ')}); set gpio.chipOffset in the profile`);
}

export function resolveGpioOffset(chipOffset: number | 'auto' | undefined, sysfsRoot = '/sys'): number {
  return chipOffset === undefined || chipOffset === 'auto' ? detectGpioOffset(sysfsRoot) : chipOffset;
}
