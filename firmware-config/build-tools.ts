/**
 * Builds the C parts (Kuroko firmware, the simavr emulator, optiboot) on demand. Tests, the
 * benchmark and `kuroko flash` call this; a missing tool is an error with the Debian package to
 * install, never a silent skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));
export const FIRMWARE_DIR = join(here, 'firmware');
export const SIMAVR_DIR = join(here, 'simavr');
export const FIRMWARE_HEX = join(FIRMWARE_DIR, 'build', 'kuroko-atmega328p.hex');
export const SIM_BINARY = join(SIMAVR_DIR, 'build', 'kuroko-avr-sim');
export const OPTIBOOT_HEX = join(SIMAVR_DIR, 'build', 'optiboot_atmega328.hex');

export class BuildError extends Error {
  override name = 'BuildError';
}

function newer(output: string, inputs: string[]): boolean {
  if (!existsSync(output)) return false;
  const t = statSync(output).mtimeMs;
  return inputs.every((i) => !existsSync(i) || statSync(i).mtimeMs <= t);
}

function run(script: string, args: string[] = []): string {
  try {
    return execFileSync('sh', [script, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new BuildError(`${script} failed:\n${err.stderr || err.stdout || err.message}`.trim());
  }
}

/** Builds the firmware if its source changed; returns the .hex path. */
export function buildFirmware(opts: { force?: boolean; outDir?: string } = {}): string {
  const hex = opts.outDir ? join(opts.outDir, 'kuroko-atmega328p.hex') : FIRMWARE_HEX;
  const inputs = ['kuroko.c', 'VERSION', 'build.sh'].map((f) => join(FIRMWARE_DIR, f));
  if (opts.force || opts.outDir || !newer(hex, inputs)) run(join(FIRMWARE_DIR, 'build.sh'), opts.outDir ? [opts.outDir] : []);
  return hex;
}

/** Builds the emulator and optiboot if needed; returns their paths. */
export function buildSimulator(): { sim: string; optiboot: string } {
  const inputs = ['kuroko-avr-sim.c', 'build.sh'].map((f) => join(SIMAVR_DIR, f));
  if (!newer(SIM_BINARY, inputs) || !newer(OPTIBOOT_HEX, inputs)) run(join(SIMAVR_DIR, 'build.sh'));
  return { sim: SIM_BINARY, optiboot: OPTIBOOT_HEX };
}
