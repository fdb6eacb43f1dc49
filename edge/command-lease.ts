/**
 * A command interface lent by the safety gate, after ros2_control's: the gate alone holds the
 * hardware, and a module that wants to move something borrows a lease while the gate is active
 * (armed). Every write goes back through the gate, which clamps it and writes it. When the gate
 * revokes (disarm, e-stop, watchdog, fault, over-temperature, shutdown) every lease it lent dies
 * for good: its writes are refused and counted, and they never reach the hardware. Re-arming does
 * not revive it; the module must ask for a new lease.
 *
 * A lease holds no reference to the hardware, only to the gate's write port, which checks the
 * lease's generation on every call.
 */
import type { Rgb } from './hardware/types.ts';

/** What the gate lets a lease do; implemented privately inside the gate. */
export interface LeasePort {
  servo(lease: CommandLease, id: string, angleDeg: number): number | null;
  motor(lease: CommandLease, id: string, duty: number): number | null;
  led(lease: CommandLease, id: string, color: Rgb, brightness: number): boolean;
  alive(lease: CommandLease): boolean;
}

export class CommandLease {
  constructor(
    /** Who holds it ('motion', 'cue:01h…'), named in refusal counts and logs. */
    readonly holder: string,
    /** The gate's activation this lease belongs to; a revoke starts a new one. */
    readonly generation: number,
    private readonly port: LeasePort,
  ) {}

  /** False once the gate revoked it; it never comes back. */
  get alive(): boolean {
    return this.port.alive(this);
  }

  /** Commands a servo; returns the angle the gate wrote (range and speed limited), or null if refused. */
  writeServo(id: string, angleDeg: number): number | null {
    return this.port.servo(this, id, angleDeg);
  }

  /** Drives a motor; returns the duty the gate wrote (0 near an obstacle), or null if refused. */
  writeMotor(id: string, duty: number): number | null {
    return this.port.motor(this, id, duty);
  }

  /** Sets an LED; false if refused. */
  writeLed(id: string, color: Rgb, brightness: number): boolean {
    return this.port.led(this, id, color, brightness);
  }
}
