/**
 * A real `kuroko edge` process on an emulated Uno (Kuroko firmware) reached through a stable device
 * path, which a test or a chaos drill can unplug and plug back in, as a USB cable would be. The
 * node's safety gate reports the loss as node/{node}/event/revoked {"cause":"fault"} and state
 * fault; `boardSafe()` reads the board's own pins.
 *
 *   const b = await startBoardNode({ brokerUrl, show: 'quick', node: 'ann' });
 *   const t = await b.unplug();           // performance.now() at the unplug
 *   await b.replug();
 *   await b.stop();
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawn, type ChildProcess } from 'node:child_process';
import { EmulatedUno } from '../../firmware-config/simavr/emulator.ts';
import { KUROKO, stopChild } from './stage.ts';

export interface BoardNode {
  /** The device path the node's profile names (a symlink to the emulator's pty). */
  link: string;
  child: ChildProcess;
  /** The board's outputs: servo pulse on pins 9 and 10, wheel PWM on pin 5, LED on pin 13. */
  pins(): Promise<{ pan: number; tilt: number; wheel: number; led: string }>;
  /** True when the board drives nothing: servos detached, wheel stopped, LED off. */
  boardSafe(): Promise<boolean>;
  /** Pulls the cable: the emulator goes away with its device path. Returns performance.now(). */
  unplug(): Promise<number>;
  /** Plugs a fresh board in at the same path. */
  replug(): Promise<void>;
  stop(): Promise<void>;
}

/** One servo (pan, pin 9), one servo (tilt, pin 10), a wheel (PWM pin 5) and an LED (pin 13). */
export function boardProfileYaml(link: string): string {
  return `kuroko: 1
platform: linux
boards:
  - { id: body, type: firmata, model: uno, port: "${link}", failsafeMs: 400 }
servos:
  - { id: pan, pin: 9, min: 10, max: 170, rest: 90, maxSpeed: 90 }
  - { id: tilt, pin: 10, min: 30, max: 150, rest: 90, maxSpeed: 90 }
motors:
  - { id: wheel, driver: pwm-dir, pins: { pwm: 5, dir: 4 }, maxDuty: 0.5 }
leds:
  - { id: eyes, type: single, pin: 13, emotion: true }
voice: { engine: sim, msPerChar: 20 }
safety: { watchdogMs: 450 }
`;
}

export async function startBoardNode(o: { brokerUrl: string; show: string; node: string; extraArgs?: string[] }): Promise<BoardNode> {
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-board-'));
  const link = join(dir, 'ttyKuroko');
  let emu: EmulatedUno | null = await EmulatedUno.start({ link });
  const profile = join(dir, 'board.yaml');
  writeFileSync(profile, boardProfileYaml(link));
  const child = spawn(process.execPath, [KUROKO, 'edge', '--show', o.show, '--node', o.node, '--character', o.node, '--profile', profile,
    '--broker', o.brokerUrl, '--no-model', '--var-dir', join(dir, 'var'), '--log-level', 'warn', ...(o.extraArgs ?? [])], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const pins = async () => {
    if (!emu) return { pan: 0, tilt: 0, wheel: 0, led: '0' };
    const s = await emu.state();
    return { pan: EmulatedUno.hardwarePulseUs(s, 9), tilt: EmulatedUno.hardwarePulseUs(s, 10), wheel: Math.max(0, s.pwm['5']), led: s.levels[13] ?? '0' };
  };
  return {
    link, child, pins,
    async boardSafe() { const p = await pins(); return p.pan === 0 && p.tilt === 0 && p.wheel === 0 && p.led === '0'; },
    async unplug() { const e = emu; emu = null; const t = performance.now(); await e?.stop(); return t; },
    async replug() { emu = await EmulatedUno.start({ link }); },
    async stop() { await stopChild(child); await emu?.stop(); emu = null; },
  };
}
