/**
 * The real hardware of a node, behind one HardwareBackend: Firmata boards (johnny-five), the
 * e-stop button on GPIO (onoff), Linux temperature sensors (1-wire, thermal zones) and the
 * camera's motion detector, as the profile declares them.
 *
 *   const hw = createRealHardware(profile, { log });
 *   hw.on('estop-input', (pressed) => ...);  // trip the local e-stop at once
 *   await hw.open();
 *
 * Events: 'fault' (reason), 'recovered' (), 'estop-input' (pressed), 'reading' (SensorReading),
 *         'motion' ({ region, strength, camera }), 'board-failsafe' ({ board, type, ... }).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ProfileT } from '../../firmware-config/profile-schema.ts';
import type { HardwareBackend, Rgb, SensorReading } from './types.ts';
import { JohnnyFiveHardware, type JohnnyFiveOptions } from './johnny-five.ts';
import { GpioEstop, type GpioFactory } from './gpio.ts';
import type { GpioBinding } from './gpio-chardev.ts';
import { LinuxSensors } from './linux-sensors.ts';
import { Camera, type CameraT } from '../camera/camera.ts';

export interface RealHardwareOptions extends JohnnyFiveOptions {
  log?: Logger;
  /** GPIO for tests or unusual systems: a fake line factory, or another sysfs root. */
  gpio?: { factory?: GpioFactory; sysfsRoot?: string; devDir?: string; binding?: GpioBinding };
  /** Start the profile's cameras (default true). */
  camera?: boolean;
}

export class RealHardware extends EventEmitter implements HardwareBackend {
  readonly kind = 'johnny-five';
  readonly boards: JohnnyFiveHardware | null;
  readonly estop: GpioEstop | null;
  readonly linux: LinuxSensors;
  readonly cameras: Camera[];

  constructor(readonly profile: ProfileT, opts: RealHardwareOptions = {}) {
    super();
    const forward = (from: EventEmitter, events: string[]) => { for (const e of events) from.on(e, (...a: unknown[]) => this.emit(e, ...a)); };
    this.boards = profile.boards?.length ? new JohnnyFiveHardware(profile, opts) : null;
    if (this.boards) forward(this.boards, ['fault', 'recovered', 'reading', 'board-failsafe']);
    const e = profile.gpio?.estop;
    this.estop = e ? new GpioEstop({ line: e.line, activeLow: e.activeLow, debounceMs: e.debounceMs, chipOffset: profile.gpio?.chipOffset, backend: profile.gpio?.backend, chip: profile.gpio?.chip, log: opts.log, ...opts.gpio }) : null;
    if (this.estop) {
      forward(this.estop, ['estop-input']);
      this.estop.on('error', (err: Error) => this.emit('fault', `e-stop input: ${err.message}`));
    }
    this.linux = new LinuxSensors(profile.sensors ?? [], opts.log);
    forward(this.linux, ['reading']);
    const cams = (profile.sensors ?? []).filter((s): s is CameraT => s.kind === 'camera');
    this.cameras = opts.camera === false ? [] : cams.map((c) => new Camera(c, opts.log));
    for (const c of this.cameras) {
      forward(c, ['motion']);
      // A camera failure is not a hardware fault: the robot can still act safely without it.
      c.on('error', (err: Error) => opts.log?.warn({ err: err.message }, 'camera unavailable'));
    }
  }

  async open(): Promise<void> {
    // The e-stop first: if it is pressed, the node must know before anything can move.
    this.estop?.open();
    await this.boards?.open();
    this.linux.open();
    for (const c of this.cameras) c.start();
  }

  writeServo(id: string, angleDeg: number): void { this.boards?.writeServo(id, angleDeg); }
  writeMotor(id: string, duty: number): void { this.boards?.writeMotor(id, duty); }
  writeLed(id: string, color: Rgb, brightness: number): void { this.boards?.writeLed(id, color, brightness); }

  readSensors(): SensorReading[] {
    return [...(this.boards?.readSensors() ?? []), ...this.linux.readSensors()];
  }

  safe(reason: string): void {
    try { this.boards?.safe(reason); } catch { /* safe() must never throw */ }
  }

  async close(): Promise<void> {
    await this.boards?.close();
    this.linux.close();
    this.estop?.close();
    await Promise.all(this.cameras.map((c) => c.stop()));
  }
}

export function createRealHardware(profile: ProfileT, opts: RealHardwareOptions = {}): HardwareBackend {
  return new RealHardware(profile, opts);
}
