/**
 * The safety gate of a node. It sits between every command and the hardware, so no path around it
 * exists, and it decides on the node alone, whatever the hub says:
 *  - nothing moves until the node is armed; arming needs a live hub, no e-stop and no fault;
 *  - an e-stop (retained topic, console command or the physical button) stops at once and holds;
 *    releasing it leaves the node disarmed — motion never resumes by itself (ISO 13850);
 *  - the watchdog disarms and brings the node to its safe pose when hub heartbeats stop;
 *  - actuator limits (range, speed, duty) are enforced here, whatever a cue asks;
 *  - actuators turn off above the temperature limit, and motors stop near an obstacle.
 * These software stops are an extra layer: the safety function is the hardwired e-stop.
 */
import { EventEmitter } from 'node:events';
import type { ProfileT, ServoT, MotorT } from '../firmware-config/profile-schema.ts';
import type { HardwareBackend, SensorReading } from './hardware/types.ts';

export type SafetyState = 'init' | 'ready' | 'armed' | 'estopped' | 'fault';

export interface SafetyEvent {
  kind: 'watchdog' | 'estop' | 'estop-button' | 'release' | 'overheat' | 'cooled' | 'obstacle' | 'clear' | 'fault' | 'recovered' | 'limit';
  data: Record<string, unknown>;
}

/** Hysteresis so a reading that hovers at a threshold does not flap. */
const TEMPERATURE_HYSTERESIS_C = 5;
const DISTANCE_HYSTERESIS_CM = 5;

export class SafetyGate extends EventEmitter {
  private armed = false;
  private hubAlive = false;
  private remoteEstop: { reason: string } | null = null;
  private localEstopLatched = false;
  private buttonPressed = false;
  private hardwareFault: string | null = null;
  private overheat: string | null = null;
  private readonly obstacles = new Set<string>();
  private watchdog: NodeJS.Timeout | null = null;
  private lastState: SafetyState = 'init';
  private lastReason = 'starting';
  private readonly servos = new Map<string, ServoT>();
  private readonly motors = new Map<string, MotorT>();

  constructor(
    private readonly profile: ProfileT,
    private readonly hardware: HardwareBackend,
    readonly watchdogMs: number = profile.safety?.watchdogMs ?? 500,
  ) {
    super();
    for (const s of profile.servos ?? []) this.servos.set(s.id, s);
    for (const m of profile.motors ?? []) this.motors.set(m.id, m);
  }

  // ---- state ----------------------------------------------------------------
  get state(): SafetyState {
    if (this.hardwareFault || this.overheat) return 'fault';
    if (this.remoteEstop || this.localEstopLatched) return 'estopped';
    if (this.armed) return 'armed';
    return this.hubAlive ? 'ready' : 'init';
  }

  get reason(): string {
    return this.lastReason;
  }

  /** May servos, LEDs and gestures move now? */
  canMove(): boolean {
    return this.state === 'armed';
  }

  /** May motors turn now? Not while an obstacle is too near. */
  canDrive(): boolean {
    return this.canMove() && this.obstacles.size === 0;
  }

  private update(reason: string): void {
    const s = this.state;
    if (s !== this.lastState) {
      this.lastState = s;
      this.lastReason = reason;
      this.emit('state', s, reason);
    }
  }

  private event(kind: SafetyEvent['kind'], data: Record<string, unknown>): void {
    this.emit('event', { kind, data } satisfies SafetyEvent);
  }

  /** Stop category 0 in software: cut actuators now, drop the arm, end every running cue. */
  private cut(reason: string): void {
    this.armed = false;
    try {
      this.hardware.safe(reason);
    } catch {
      // safe() must not throw; if a broken backend does, the state below still holds everything.
    }
    this.emit('stop-all', reason);
  }

  // ---- inputs ---------------------------------------------------------------
  /** Each hub heartbeat feeds the watchdog. */
  hubHeartbeat(): void {
    const wasAlive = this.hubAlive;
    this.hubAlive = true;
    if (this.watchdog) this.watchdog.refresh();
    else {
      this.watchdog = setTimeout(() => this.watchdogExpired(), this.watchdogMs);
      this.watchdog.unref?.();
    }
    if (!wasAlive) this.update('hub heartbeat received');
  }

  private watchdogExpired(): void {
    this.watchdog = null;
    this.hubAlive = false;
    const reason = `watchdog: no hub heartbeat for ${this.watchdogMs} ms`;
    if (this.armed) {
      this.armed = false;
      // A controlled stop: motors stop now, servos glide to their rest pose within their speed limits.
      for (const id of this.motors.keys()) this.hardware.writeMotor(id, 0);
      this.emit('safe-pose', reason);
      this.event('watchdog', { watchdogMs: this.watchdogMs, action: 'disarmed, safe pose' });
    }
    this.update(reason);
  }

  /** Arms the node. Returns why not, in words, when it cannot. */
  arm(): { ok: true } | { ok: false; reason: string } {
    const s = this.state;
    if (s === 'estopped') return { ok: false, reason: this.buttonPressed ? 'the e-stop button is pressed' : 'e-stop is active: release it first' };
    if (s === 'fault') return { ok: false, reason: `fault: ${this.hardwareFault ?? this.overheat}` };
    if (!this.hubAlive) return { ok: false, reason: 'no hub heartbeat: the watchdog holds the node disarmed' };
    this.armed = true;
    this.update('armed');
    return { ok: true };
  }

  disarm(reason = 'disarmed'): void {
    if (!this.armed) return;
    this.armed = false;
    for (const id of this.motors.keys()) this.hardware.writeMotor(id, 0);
    this.emit('safe-pose', reason);
    this.update(reason);
  }

  /** The retained show-wide e-stop (or a console e-stop) changed. */
  setRemoteEstop(active: boolean, reason = 'e-stop'): void {
    if (active) {
      const first = !this.remoteEstop;
      this.remoteEstop = { reason };
      this.cut(`e-stop: ${reason}`);
      this.update(`e-stop: ${reason}`);
      if (first) this.event('estop', { reason });
    } else {
      const was = !!this.remoteEstop || this.localEstopLatched;
      this.remoteEstop = null;
      // A release also resets the button latch, but only once the button itself is pulled out.
      if (!this.buttonPressed) this.localEstopLatched = false;
      if (was) this.event('release', { stillLatched: this.localEstopLatched });
      this.update(this.localEstopLatched ? 'release refused: the e-stop button is still pressed' : 'e-stop released; arm again to move');
    }
  }

  /** The physical e-stop button (debounced by the backend). Trips locally, asking nobody. */
  setEstopButton(pressed: boolean): void {
    this.buttonPressed = pressed;
    if (pressed) {
      this.localEstopLatched = true;
      this.cut('e-stop button pressed');
      this.update('e-stop button pressed');
      this.event('estop-button', { pressed: true });
    } else {
      this.event('estop-button', { pressed: false, note: 'latched until a release' });
    }
  }

  hardwareFailed(reason: string): void {
    this.hardwareFault = reason;
    this.cut(`fault: ${reason}`);
    this.event('fault', { reason });
    this.update(`fault: ${reason}`);
  }

  hardwareRecovered(): void {
    if (!this.hardwareFault) return;
    this.hardwareFault = null;
    this.event('recovered', {});
    this.update('hardware recovered; arm again to move');
  }

  /** Sensor readings drive the cut-outs. */
  reading(r: SensorReading): void {
    const limit = this.profile.safety?.maxTemperatureC;
    if (r.kind === 'temperature' && limit !== undefined) {
      if (!this.overheat && r.value > limit) {
        this.overheat = `overheat: ${r.sensor} reads ${r.value.toFixed(1)} °C, above the ${limit} °C limit`;
        this.cut(this.overheat);
        this.event('overheat', { sensor: r.sensor, value: r.value, limit });
        this.update(this.overheat);
      } else if (this.overheat && r.value < limit - TEMPERATURE_HYSTERESIS_C) {
        this.overheat = null;
        this.event('cooled', { sensor: r.sensor, value: r.value });
        this.update('cooled down; arm again to move');
      }
    }
    if (r.kind === 'distance') {
      const sensor = this.profile.sensors?.find((s) => s.id === r.sensor);
      const stopBelow = sensor && sensor.kind === 'distance' ? sensor.stopBelowCm : undefined;
      if (stopBelow === undefined) return;
      if (r.value < stopBelow && !this.obstacles.has(r.sensor)) {
        this.obstacles.add(r.sensor);
        for (const id of this.motors.keys()) this.hardware.writeMotor(id, 0);
        this.emit('motors-stopped', 'obstacle');
        this.event('obstacle', { sensor: r.sensor, cm: r.value, stopBelowCm: stopBelow });
      } else if (r.value >= stopBelow + DISTANCE_HYSTERESIS_CM && this.obstacles.delete(r.sensor)) {
        this.event('clear', { sensor: r.sensor, cm: r.value });
      }
    }
  }

  // ---- limits -----------------------------------------------------------------
  /** Clamps a servo angle into the profile's range. */
  limitServo(id: string, angle: number): { angle: number; clamped: boolean } {
    const s = this.servos.get(id);
    if (!s) throw new Error(`unknown servo "${id}"`);
    if (!Number.isFinite(angle)) return { angle: s.rest, clamped: true };
    const a = Math.min(s.max, Math.max(s.min, angle));
    return { angle: a, clamped: a !== angle };
  }

  /** The largest step a servo may take in dtMs at its speed limit. */
  maxServoStep(id: string, dtMs: number): number {
    const s = this.servos.get(id);
    if (!s) throw new Error(`unknown servo "${id}"`);
    return (s.maxSpeed * dtMs) / 1000;
  }

  /** Clamps a motor duty to ±maxDuty. */
  limitMotor(id: string, duty: number): { duty: number; clamped: boolean } {
    const m = this.motors.get(id);
    if (!m) throw new Error(`unknown motor "${id}"`);
    if (!Number.isFinite(duty)) return { duty: 0, clamped: true };
    const d = Math.min(m.maxDuty, Math.max(-m.maxDuty, duty));
    return { duty: d, clamped: d !== duty };
  }

  reportLimit(data: Record<string, unknown>): void {
    this.event('limit', data);
  }

  close(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }
}
