/**
 * The hardware interface of a node, after ros2_control: a lifecycle (open → write/read → safe → close)
 * behind which simulated and real hardware are interchangeable. The layers above it (safety gate,
 * motion controller) have already limited every value they hand down; a backend still clamps to the
 * profile, because limits are enforced at the last software layer too.
 */
import type { EventEmitter } from 'node:events';

export interface Rgb { r: number; g: number; b: number }

export interface SensorReading {
  sensor: string;
  kind: 'distance' | 'temperature';
  value: number;
  unit: 'cm' | 'C';
}

/** Events a backend emits:
 *  - 'fault' (reason: string): the hardware is lost or failed; the node goes safe.
 *  - 'recovered' (): the hardware came back (for example a board reopened after a USB loss).
 *  - 'estop-input' (pressed: boolean): a physical e-stop button changed (debounced).
 *  - 'reading' (r: SensorReading): a fresh sensor value.
 *  - 'motion' (data: {region, strength}): camera motion detected. */
export interface HardwareBackend extends EventEmitter {
  /** Name reported in the node birth: 'sim', 'johnny-five', ... */
  readonly kind: string;
  /** Open boards and devices. Leaves every actuator in its safe state. */
  open(): Promise<void>;
  /** Command one servo to an angle (degrees), this frame. */
  writeServo(id: string, angleDeg: number): void;
  /** Drive one motor at a duty in -1..1 (0 stops it). */
  writeMotor(id: string, duty: number): void;
  /** Set an LED (colour components 0..255, brightness 0..1). */
  writeLed(id: string, color: Rgb, brightness: number): void;
  /** Latest sensor values. */
  readSensors(): SensorReading[];
  /** Safe state: motors stopped, servos detached/relaxed or at rest, LEDs at a safe level. Must never throw. */
  safe(reason: string): void;
  /** Release everything. */
  close(): Promise<void>;
}
