/**
 * The Kuroko firmware's wire protocol, byte by byte over the emulated Uno's pty, for the messages
 * johnny-five does not exercise in the other tests (pin state, extended analog, sampling interval,
 * digital input reports, the Kuroko sysex).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialPort } from 'serialport';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { sleep, waitFor } from './helpers.ts';

let emu: EmulatedUno;
let port: SerialPort;
let rx: number[] = [];

beforeAll(async () => {
  emu = await EmulatedUno.start();
  port = new SerialPort({ path: emu.ptyPath, baudRate: 57600 });
  port.on('data', (d: Buffer) => rx.push(...d));
  await new Promise<void>((r) => port.once('open', () => r()));
  // the reset on open makes the firmware announce itself: version, then firmware name
  await waitFor('announcement', () => rx.includes(0xf7));
}, 60_000);
afterAll(async () => {
  await new Promise<void>((r) => (port?.isOpen ? port.close(() => r()) : r()));
  await emu?.stop();
});

const send = (...bytes: number[]) => { port.write(Buffer.from(bytes)); };
/** Waits for a sysex whose id is `id` and returns its payload (7-bit bytes, after the id). */
async function sysex(id: number, sub?: number): Promise<number[]> {
  return waitFor(`sysex 0x${id.toString(16)}`, () => {
    for (let i = 0; i < rx.length; i++) {
      if (rx[i] === 0xf0 && rx[i + 1] === id && (sub === undefined || rx[i + 2] === sub)) {
        const end = rx.indexOf(0xf7, i);
        if (end < 0) return null;
        const payload = rx.slice(i + 2, end);
        rx = rx.slice(end + 1);
        return payload;
      }
    }
    return null;
  });
}

describe('Kuroko firmware protocol', () => {
  it('announced REPORT_VERSION 2.5 and REPORT_FIRMWARE "Kuroko" on reset', () => {
    // the first sysex is the firmware report: F9 02 05 F0 79 01 00 'K' 0 'u' 0 ...
    const i = rx.indexOf(0xf9);
    expect(rx.slice(i, i + 3)).toEqual([0xf9, 2, 5]);
    const s = rx.indexOf(0xf0);
    const payload = rx.slice(s + 4, rx.indexOf(0xf7, s));
    const name = String.fromCharCode(...payload.filter((_, k) => k % 2 === 0));
    expect(rx[s + 1]).toBe(0x79);
    expect(name).toBe('Kuroko');
    rx = [];
  });

  it('answers PIN_STATE_QUERY with mode and value', async () => {
    send(0xf4, 13, 1, 0xf5, 13, 1); // SET_PIN_MODE 13 OUTPUT; SET_DIGITAL_PIN_VALUE 13 HIGH
    send(0xf0, 0x6d, 13, 0xf7);
    expect(await sysex(0x6e)).toEqual([13, 1, 1]);
    expect((await emu.state()).levels[13]).toBe('1');
  });

  it('takes EXTENDED_ANALOG microseconds on a servo pin, and SERVO_CONFIG limits', async () => {
    send(0xf0, 0x70, 9, 1000 & 0x7f, 1000 >> 7, 2000 & 0x7f, 2000 >> 7, 0xf7); // SERVO_CONFIG 9: 1000..2000 us
    send(0xf0, 0x6f, 9, 1500 & 0x7f, (1500 >> 7) & 0x7f, 0xf7);
    await waitFor('OCR1A = 3000', async () => (await emu.state()).timer1.ocr1a === 3000);
    send(0xe9, 2400 & 0x7f, 2400 >> 7); // ANALOG_MESSAGE pin 9: 2400 us, clamped to the configured 2000
    await waitFor('OCR1A = 4000', async () => (await emu.state()).timer1.ocr1a === 4000);
    send(0xe9, 90, 0); // below 544: degrees -> middle of 1000..2000
    await waitFor('OCR1A = 3000 again', async () => (await emu.state()).timer1.ocr1a === 3000);
  });

  it('reports analog inputs at the SAMPLING_INTERVAL', async () => {
    await emu.setAdc(2, 1.25);
    send(0xf0, 0x7a, 100, 0, 0xf7); // 100 ms
    rx = [];
    send(0xc2, 1); // REPORT_ANALOG channel 2 on
    await sleep(1050);
    send(0xc2, 0);
    const reports: number[] = [];
    for (let i = 0; i + 2 < rx.length; i++) if (rx[i] === 0xe2) reports.push(rx[i + 1]! | (rx[i + 2]! << 7));
    expect(reports.length).toBeGreaterThanOrEqual(8);
    expect(reports.length).toBeLessThanOrEqual(12);
    expect(reports[0]).toBeGreaterThanOrEqual(254); // 1.25 V of 5 V on 10 bits
    expect(reports[0]).toBeLessThanOrEqual(257);
    send(0xf0, 0x7a, 19, 0, 0xf7);
  });

  it('reports digital input changes on REPORT_DIGITAL', async () => {
    send(0xf4, 2, 0); // pin 2 INPUT
    send(0xd0, 1); // REPORT_DIGITAL port 0
    rx = [];
    await emu.setPin(2, true);
    await waitFor('port 0 report with pin 2 high', () => { const i = rx.lastIndexOf(0x90); return i >= 0 && i + 2 < rx.length && (rx[i + 1]! & 0x04) !== 0; });
    await emu.setPin(2, false);
    await waitFor('port 0 report with pin 2 low', () => { const i = rx.lastIndexOf(0x90); return i >= 0 && i + 2 < rx.length && (rx[i + 1]! & 0x04) === 0; });
    send(0xd0, 0);
  });

  it('answers the Kuroko status query and applies safe pin states on a commanded safe', async () => {
    // (the silent second of the sampling test tripped the 500 ms failsafe: reports of it may be queued)
    send(0xf0, 0x0e, 0x06, 0xf7);
    const st = await sysex(0x0e, 0x06);
    expect(st[0]).toBe(0x06);
    expect(st[1]! | (st[2]! << 7) | (st[3]! << 14)).toBe(500);
    expect(st.slice(5, 7)).toEqual([1, 0]);
    send(0xf4, 13, 1, 0xf5, 13, 1); // pin 13 high again
    send(0xe9, 90, 0); // servo on 9 attached again
    await waitFor('pin 13 high, servo pulsing', async () => { const s = await emu.state(); return s.levels[13] === '1' && s.timer1.com1a === 1; });
    rx = [];
    send(0xf0, 0x0e, 0x04, 13, 0, 0xf7); // safe state of pin 13: low
    send(0xf0, 0x0e, 0x05, 0xf7); // go safe
    const tripped = await sysex(0x0e, 0x02);
    expect(tripped.slice(0, 2)).toEqual([0x02, 2]); // tripped, reason: commanded
    const s = await emu.state();
    expect(s.levels[13]).toBe('0');
    expect(s.timer1.com1a).toBe(0); // the servo on 9 detached
  });
});
