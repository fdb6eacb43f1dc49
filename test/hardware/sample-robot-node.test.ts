/**
 * The sample robot's own profile, driven by a real edge node through a real hub and broker, on two
 * emulated boards running our firmware (the head Uno and the base Nano are both ATmega328P). Only
 * the last inch is stood in for: the ports are the emulators' ptys, the camera is ffmpeg's test
 * source, and the e-stop GPIO line is a fake (no GPIO exists here).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { parseProfile } from '../../firmware-config/profile.ts';
import { createRealHardware } from '../../edge/hardware/real.ts';
import { SimVoice } from '../../edge/voice/sim-voice.ts';
import { EdgeNode } from '../../edge/node.ts';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { newCueId } from '../../hub/playback.ts';
import { ROOT } from '../helpers/stage.ts';
import { waitFor } from './helpers.ts';

let head: EmulatedUno;
let base: EmulatedUno;
beforeAll(async () => {
  [head, base] = await Promise.all([EmulatedUno.start(), EmulatedUno.start()]);
}, 60_000);
afterAll(async () => {
  await Promise.all([head?.stop(), base?.stop()]);
});

describe('the sample robot profile on emulated boards', () => {
  it('a node armed by the hub moves the head servo and drives a wheel; an e-stop cuts both', async () => {
    const text = readFileSync(join(ROOT, 'firmware-config/profiles/sample-robot.yaml'), 'utf8')
      .replace('/dev/serial/by-id/usb-Arduino__www.arduino.cc__0043_HEAD-if00', head.ptyPath)
      .replace('/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0', base.ptyPath)
      .replace('source: v4l2, device: /dev/video0', 'source: testsrc')
      .replace('chipOffset: auto', 'chipOffset: 512') // no GPIO chip to detect here
      .replace('node: sample-robot', 'node: ann');
    const loaded = parseProfile('sample-robot.yaml', text);
    const hardware = createRealHardware(loaded.profile, {
      gpio: { factory: () => ({ readSync: () => 0, watch: () => undefined, unwatchAll: () => undefined, unexport: () => undefined }) },
    });
    const show = loadShow(join(ROOT, 'test/fixtures/quick-show.yaml'));
    const log = pino({ level: 'silent' });
    const hub = new Hub({ show, port: 0, logger: log, journalDir: mkdtempSync(join(tmpdir(), 'kuroko-')) });
    await hub.start();
    const node = new EdgeNode({ show: 'quick', node: 'ann', character: 'ann', brokerUrl: hub.brokerUrl, profile: loaded, hardware, voice: new SimVoice(), logger: log });
    try {
      await node.start();
      await waitFor('node ready', () => hub.registry.get('ann')?.state === 'ready', 15000);
      expect(hub.registry.get('ann')?.birth?.hardware).toBe('johnny-five');
      // Nothing moves before arming: the head servo is detached (no pulse).
      expect(EmulatedUno.hardwarePulseUs(await head.state(), 9)).toBe(0);
      await waitFor('armed', async () => (await hub.console.run('arm')).ok && hub.registry.get('ann')?.state === 'armed', 10000);

      const at = hub.showNow() + 100;
      hub.publish('nodeCue', { node: 'ann' }, {
        v: 1, id: newCueId(), scene: 'hello', seq: 0, at, deadline: at + 500, ts: Date.now(), kind: 'motion',
        params: { servos: { 'head-pan': 120 }, motors: { 'left-wheel': 0.5 }, durationMs: 2000 },
      });
      // 120° on a 544–2400 µs servo is 1781 µs on pin 9 (timer 1, OCR1A); the wheel's PWM is on the base's pin 5.
      // The wheel first: it turns only for the cue's 2 s, which the servo's glide to 120° also takes.
      await waitFor('left wheel driven', async () => ((await base.state()).pwm['5'] ?? 0) > 100, 10000);
      await waitFor('head-pan at 120°', async () => EmulatedUno.hardwarePulseUs(await head.state(), 9) === Math.round(544 + (120 * 1856) / 180), 10000);

      await hub.console.run('estop', { reason: 'test' });
      await waitFor('node e-stopped', () => hub.registry.get('ann')?.state === 'estopped', 5000);
      await waitFor('head servo detached', async () => EmulatedUno.hardwarePulseUs(await head.state(), 9) === 0, 5000);
      await waitFor('wheel stopped', async () => ((await base.state()).pwm['5'] ?? 0) <= 0, 5000);
    } finally {
      await node.stop();
      await hub.stop();
    }
  }, 90_000);
});
