/**
 * `kuroko flash` against the emulated Uno booting optiboot: avrdude writes our firmware through
 * the bootloader, the check reads "Kuroko" back, and then the real backend drives the board.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { runFlashCli, type FlashIo } from '../../firmware-config/flash.ts';
import { JohnnyFiveHardware } from '../../edge/hardware/johnny-five.ts';
import { unoProfile, waitFor } from './helpers.ts';

function capture(): FlashIo & { text(): string } {
  const lines: string[] = [];
  return { out: (l) => lines.push(l), err: (l) => lines.push(`ERR ${l}`), text: () => lines.join('\n') };
}

describe('kuroko flash', () => {
  let emu: EmulatedUno;
  beforeAll(async () => { emu = await EmulatedUno.start({ firmware: null, bootloader: true }); }, 60_000);
  afterAll(async () => { await emu?.stop(); });

  it('writes the firmware through optiboot, verifies it, and the backend then drives the board', async () => {
    const io = capture();
    const code = await runFlashCli(['--port', emu.ptyPath, '--board', 'uno'], io);
    expect(io.text()).toMatch(/\d+ bytes of flash verified/);
    expect(io.text()).toContain('board answers: Kuroko 1.0');
    expect(code).toBe(0);
    const hw = new JohnnyFiveHardware(unoProfile(emu.ptyPath));
    await hw.open();
    try {
      hw.writeServo('pan', 90);
      await waitFor('servo pulse after flashing', async () => EmulatedUno.hardwarePulseUs(await emu.state(), 9) === 1472);
    } finally {
      await hw.close();
    }
  }, 30_000);

  it('finds the board port from a node profile', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-flash-'));
    const file = join(dir, 'stage-left.yaml');
    writeFileSync(file, `kuroko: 1\nnode: stage-left\nplatform: linux\nboards:\n  - { id: body, type: firmata, model: nano, port: "${emu.ptyPath}" }\n`);
    const io = capture();
    expect(await runFlashCli(['--node', 'stage-left', '--profile', file], io)).toBe(0);
    expect(io.text()).toContain('flashing body (nano)');
  }, 30_000);

  it('refuses unknown flags, a missing port, a mega and a wrong combination with clear messages', async () => {
    let io = capture();
    expect(await runFlashCli(['--port', '/dev/x', '--bord', 'uno'], io)).toBe(2);
    expect(io.text()).toMatch(/unknown option --bord \(see kuroko flash --help\)/);
    io = capture();
    expect(await runFlashCli(['--port', '/dev/ttyNOPE0', '--board', 'uno', '--hex', join(import.meta.dirname, 'flash.test.ts')], io)).toBe(1);
    expect(io.text()).toMatch(/no port \/dev\/ttyNOPE0: is the board plugged in/);
    io = capture();
    expect(await runFlashCli(['--port', '/dev/x', '--board', 'mega'], io)).toBe(1);
    expect(io.text()).toMatch(/uno and nano/);
    io = capture();
    expect(await runFlashCli(['--port', '/dev/x'], io)).toBe(1);
    expect(io.text()).toMatch(/--port needs --board/);
    io = capture();
    expect(await runFlashCli([], io)).toBe(1);
    expect(io.text()).toMatch(/say which board/);
  });

  it('says so when no bootloader answers (wrong port)', async () => {
    // A pty with nothing behind it: the emulator paused, so nothing answers avrdude's sync.
    const other = await EmulatedUno.start({ firmware: null, bootloader: true });
    try {
      await other.pause();
      const io = capture();
      expect(await runFlashCli(['--port', other.ptyPath, '--board', 'uno', '--no-check', '--attempts', '1'], io)).toBe(1);
      expect(io.text()).toMatch(/no bootloader answered on/);
    } finally {
      await other.stop();
    }
  }, 60_000);
});
