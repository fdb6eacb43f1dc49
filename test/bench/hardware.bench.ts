/**
 * Hardware benchmark on the emulated Uno (Kuroko firmware in simavr, real backend over a pty):
 *  - latency from writeServo() to the new pulse width in timer 1 (OCR1A) on the board;
 *  - jitter of 50 Hz motion frames written through the real backend;
 *  - memory of a node process holding the real backend.
 * Run: npm run bench:hardware
 */
import { performance } from 'node:perf_hooks';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { JohnnyFiveHardware } from '../../edge/hardware/johnny-five.ts';
import { parseProfile } from '../../firmware-config/profile.ts';

const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;

const mem0 = process.memoryUsage();
const emu = await EmulatedUno.start();
const { profile } = parseProfile('bench.yaml', `
kuroko: 1
platform: linux
boards:
  - { id: body, type: firmata, model: uno, port: "${emu.ptyPath}" }
servos:
  - { id: pan, pin: 9, min: 0, max: 180, rest: 90, maxSpeed: 600 }
  - { id: jaw, pin: 11, min: 0, max: 40, rest: 0, maxSpeed: 600 }
motors:
  - { id: wheel, driver: pwm-dir, pins: { pwm: 5, dir: 4 }, maxDuty: 1 }
sensors:
  - { id: front, kind: distance, model: gp2y0a21, pin: A0, periodMs: 50 }
`);
const hw = new JohnnyFiveHardware(profile);
const tOpen = performance.now();
await hw.open();
const openMs = performance.now() - tOpen;

// 1. command -> pulse width on the board
const latencies: number[] = [];
for (let i = 0; i < 40; i++) {
  const angle = i % 2 ? 30 : 150;
  const want = Math.round(544 + (angle * 1856) / 180);
  const t0 = performance.now();
  hw.writeServo('pan', angle);
  for (;;) {
    const s = await emu.state();
    if (EmulatedUno.hardwarePulseUs(s, 9) === want) break;
    if (performance.now() - t0 > 2000) throw new Error('servo never reached its pulse width');
  }
  latencies.push(performance.now() - t0);
}
// The measuring itself (one state round trip) is part of each figure: report it too.
const probe: number[] = [];
for (let i = 0; i < 20; i++) { const t = performance.now(); await emu.state(); probe.push(performance.now() - t); }

// 2. 50 Hz frames through the real backend for 5 s (drift-corrected schedule, as the motion layer would)
const intervals: number[] = [];
await new Promise<void>((resolve) => {
  const start = performance.now();
  let n = 0;
  let last = start;
  const tick = () => {
    const now = performance.now();
    if (n > 0) intervals.push(now - last);
    last = now;
    n++;
    hw.writeServo('pan', 90 + 60 * Math.sin(n / 10));
    hw.writeServo('jaw', 20 + 20 * Math.sin(n / 3));
    hw.writeMotor('wheel', 0.3 * Math.sin(n / 25));
    if (n >= 250) return resolve();
    setTimeout(tick, Math.max(0, start + n * 20 - performance.now()));
  };
  tick();
});
const jitter = intervals.map((x) => Math.abs(x - 20));
const mem1 = process.memoryUsage();
const state = await emu.state();
await hw.close();
await emu.stop();

const rows: Array<[string, string]> = [
  ['board open -> ready (johnny-five on Kuroko)', `${openMs.toFixed(0)} ms`],
  ['servo command -> OCR1A written, p50', `${pct(latencies, 50).toFixed(2)} ms`],
  ['servo command -> OCR1A written, p95', `${pct(latencies, 95).toFixed(2)} ms`],
  ['servo command -> OCR1A written, max', `${Math.max(...latencies).toFixed(2)} ms`],
  ['  + until the servo sees it (next 20 ms frame)', '0-20 ms (timer 1 double-buffers OCR1A)'],
  ['  (of which one emulator state query, p50)', `${pct(probe, 50).toFixed(2)} ms`],
  ['50 Hz frames written', `${intervals.length + 1}`],
  ['frame interval p50', `${pct(intervals, 50).toFixed(2)} ms`],
  ['frame jitter |dt-20| p95', `${pct(jitter, 95).toFixed(2)} ms`],
  ['frame jitter max', `${Math.max(...jitter).toFixed(2)} ms`],
  ['soft servo (pin 11) last pulse', `${state.pulses['11']?.widthUs ?? '-'} us`],
  ['node RSS before / with real backend', `${mb(mem0.rss)} / ${mb(mem1.rss)}`],
  ['node heap used before / with real backend', `${mb(mem0.heapUsed)} / ${mb(mem1.heapUsed)}`],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log(`\nKuroko hardware benchmark (emulated Uno, ${new Date().toISOString()})`);
console.log(`${'measure'.padEnd(w)} | value`);
console.log(`${'-'.repeat(w)}-+-${'-'.repeat(20)}`);
for (const [k, v] of rows) console.log(`${k.padEnd(w)} | ${v}`);
