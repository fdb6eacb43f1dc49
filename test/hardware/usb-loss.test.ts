/**
 * A USB loss: the board's device path disappears (the emulator dies), then a board appears again at
 * the same path. The backend must fault, release the port (no "Cannot lock port"), and reopen.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { JohnnyFiveHardware } from '../../edge/hardware/johnny-five.ts';
import five from 'johnny-five';
import { sleep, unoProfile, waitFor } from './helpers.ts';

describe('USB loss', () => {
  it('faults when the device goes away and recovers when it comes back at the same path', async () => {
    const link = join(mkdtempSync(join(tmpdir(), 'kusb-')), 'ttyKuroko');
    let emu = await EmulatedUno.start({ link });
    const hw = new JohnnyFiveHardware(unoProfile(link), { reopenMs: 200 });
    const events: string[] = [];
    hw.on('fault', (r: string) => events.push(`fault:${r}`));
    hw.on('recovered', () => events.push('recovered'));
    await hw.open();
    const cached = five.Board.cache.length;
    try {
      hw.writeServo('pan', 90);
      await waitFor('servo', async () => EmulatedUno.hardwarePulseUs(await emu.state(), 9) === 1472);
      await emu.stop(); // unplugged
      await waitFor('fault', () => events.some((e) => e.startsWith('fault:')), 3000);
      expect(hw.readSensors()).toEqual([]); // no stale readings from a lost board
      await sleep(600); // a few failed reopen attempts while nothing is there
      expect(events.filter((e) => e === 'recovered')).toEqual([]);
      emu = await EmulatedUno.start({ link }); // plugged back in
      await waitFor('recovered', () => events.includes('recovered'), 8000);
      hw.writeServo('pan', 45);
      await waitFor('servo after recovery', async () => EmulatedUno.hardwarePulseUs(await emu.state(), 9) === Math.round(544 + (45 * 1856) / 180));
      expect(five.Board.cache.length).toBe(cached); // the lost board's johnny-five object was released
    } finally {
      await hw.close();
      await emu.stop();
    }
  }, 20_000);
});
