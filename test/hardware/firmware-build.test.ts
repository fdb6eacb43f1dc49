/**
 * The C parts build from source with the Debian toolchain, and the firmware image is
 * reproducible. A missing tool fails here with the package to install: never a silent skip.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFirmware, buildSimulator } from '../../firmware-config/build-tools.ts';

function has(cmd: string, args: string[]): boolean {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); return true; } catch { return false; }
}

describe('toolchain (CI must install it: see firmware-config/README.md)', () => {
  it.each([
    ['avr-gcc', ['--version'], 'gcc-avr binutils-avr avr-libc'],
    ['avrdude', ['-?'], 'avrdude'],
    ['cc', ['--version'], 'gcc'],
    ['pkg-config', ['--exists', 'simavr'], 'pkg-config libsimavr-dev libelf-dev'],
  ])('%s is installed', (cmd, args, pkgs) => {
    // avrdude -? exits 1 on some versions; presence is what matters.
    const ok = has(cmd, args) || (cmd === 'avrdude' && has('sh', ['-c', 'command -v avrdude']));
    expect(ok, `${cmd} is missing: apt-get install -y ${pkgs}`).toBe(true);
  });
  it('has the optiboot source', () => {
    expect(existsSync('/usr/share/arduino/hardware/arduino/avr/bootloaders/optiboot/optiboot.c'), 'optiboot source missing: apt-get install -y arduino-core-avr').toBe(true);
  });
});

describe('firmware build', () => {
  it('builds the same bytes twice, small enough to leave room for the bootloader', () => {
    const a = buildFirmware({ outDir: mkdtempSync(join(tmpdir(), 'kfw-a-')) });
    const b = buildFirmware({ outDir: mkdtempSync(join(tmpdir(), 'kfw-b-')) });
    const ha = readFileSync(a), hb = readFileSync(b);
    expect(ha.equals(hb)).toBe(true);
    const bytes = ha.toString().split('\n').filter((l) => l.startsWith(':') && l.slice(7, 9) === '00').reduce((n, l) => n + parseInt(l.slice(1, 3), 16), 0);
    expect(bytes).toBeGreaterThan(1000);
    expect(bytes).toBeLessThanOrEqual(32768 - 512);
  }, 60_000);

  it('builds the emulator and an optiboot that fits its 512-byte boot section', () => {
    const { sim, optiboot } = buildSimulator();
    expect(statSync(sim).mode & 0o111).not.toBe(0);
    const lines = readFileSync(optiboot, 'utf8').split('\n').filter((l) => l.slice(7, 9) === '00');
    const first = parseInt(lines[0]!.slice(3, 7), 16);
    expect(first).toBe(0x7e00);
    const end = Math.max(...lines.map((l) => parseInt(l.slice(3, 7), 16) + parseInt(l.slice(1, 3), 16)));
    expect(end).toBeLessThanOrEqual(0x8000);
  }, 60_000);
});
