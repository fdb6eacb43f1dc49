/**
 * The safety gate of a node. It is the only holder of the hardware backend: every write to a
 * servo, motor or LED is made here, and it decides on the node alone, whatever the hub says.
 *
 * Lifecycle (after ros2_control): the gate is inactive until armed, active while armed. Modules
 * (motion, the cue executor, the jaw) borrow a CommandLease while it is active; disarm, e-stop,
 * watchdog, fault or over-temperature revoke every lease at once, and a revoked lease stays dead
 * after a re-arm. Stopping is never blocked: on every stop the gate writes the safe outputs
 * itself, before it tells anyone.
 *
 *  - nothing moves (or lights) until armed; arming needs a live hub, no e-stop and no fault;
 *  - an e-stop from any source (retained topic, hub, console, the physical button, the latch file
 *    after a restart) cuts at once and holds; it is latched on disk (EstopLatch) and only a live,
 *    newer release ends it; a release leaves the node disarmed (ISO 13850);
 *  - the watchdog disarms and glides the servos to rest when hub heartbeats stop;
 *  - range, speed and duty limits are applied to every value written, whatever a cue asks;
 *  - actuators cut above the temperature limit; motors stop near an obstacle.
 *
 * LED policy: LEDs are outputs like any other. They light only through a lease (armed); on any
 * revoke the gate turns every LED off. A disarmed, e-stopped or faulted node is dark.
 *
 * These software stops are an extra layer: the safety function is the hardwired e-stop.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { ProfileT, LedT } from '../firmware-config/profile-schema.ts';
import type { HardwareBackend, Rgb, SensorReading } from './hardware/types.ts';
import { CommandLease, type LeasePort } from './command-lease.ts';
import { EstopLatch, type EstopSource, type ReleaseDecision, type ReleaseMessage, type Stamp } from './estop-latch.ts';
import { SafePoseGlide } from './safe-pose.ts';
import { ActuatorLimits } from './actuator-limits.ts';
import { CUT_CAUSES, type GateEvents, type RevokeCause, type SafetyEvent, type SafetyEventData, type SafetyEventKind, type SafetyState } from './safety-events.ts';

export type { SafetyState, SafetyEvent, GateEvents, RevokeCause } from './safety-events.ts';

/** Hysteresis so a reading that hovers at a threshold does not flap. */
const TEMPERATURE_HYSTERESIS_C = 5;
const DISTANCE_HYSTERESIS_CM = 5;
const FRAME_MS = 20;
const DARK: Rgb = { r: 0, g: 0, b: 0 };

export interface GateOptions {
  /** The e-stop latch (default: in memory only). The node passes one backed by its state file. */
  latch?: EstopLatch;
  /** Monotonic ms, for speed limits and the safe-pose glide (tests inject one). */
  now?: () => number;
}

export class SafetyGate extends EventEmitter<GateEvents> {
  /** The hardware: private to the gate, reachable by nothing else. */
  readonly #hw: HardwareBackend;
  readonly latch: EstopLatch;
  private armed = false;
  private hubAlive = false;
  private buttonPressed = false;
  private hardwareFault: string | null = null;
  private overheat: string | null = null;
  private readonly obstacles = new Set<string>();
  private watchdog: NodeJS.Timeout | null = null;
  private lastState: SafetyState = 'init';
  private lastReason = 'starting';
  readonly limits: ActuatorLimits;
  private readonly leds = new Map<string, LedT>();
  /** Last angle written to each servo, and when (the speed limit is measured from it). */
  private readonly written = new Map<string, { angle: number; at: number }>();
  /** Bumped on every arm and every revoke: a lease lives only within its generation. */
  private generation = 0;
  private leasesLent = 0;
  private readonly glide: SafePoseGlide;
  private readonly now: () => number;
  /** Writes refused because the lease was revoked or never valid; they reached no hardware. */
  readonly refused = { total: 0, byHolder: new Map<string, number>() };

  constructor(private readonly profile: ProfileT, hardware: HardwareBackend, readonly watchdogMs: number = profile.safety?.watchdogMs ?? 500, opts: GateOptions = {}) {
    super();
    this.#hw = hardware;
    this.now = opts.now ?? (() => performance.now());
    this.limits = new ActuatorLimits(profile);
    for (const l of profile.leds ?? []) this.leds.set(l.id, l);
    this.glide = new SafePoseGlide((id, angle) => this.writeServoNow(id, angle), FRAME_MS);
    this.latch = opts.latch ?? new EstopLatch();
    const loaded = this.latch.load();
    if (loaded.latched) this.lastReason = loaded.doubt ? `e-stop latched: ${loaded.doubt}` : `e-stop latched before this start (${this.latch.state.reason ?? 'no reason'}): release it to go on`;
    this.lastState = this.state;
    hardware.on('fault', (reason: string) => this.hardwareFailed(reason));
    hardware.on('recovered', () => this.hardwareRecovered());
    hardware.on('estop-input', (pressed: boolean) => this.setEstopButton(pressed));
    hardware.on('reading', (r: SensorReading) => { this.reading(r); this.emit('reading', r); });
    hardware.on('board-failsafe', (d: Record<string, unknown>) => this.emit('report', 'board-failsafe', d));
    hardware.on('motion', (d: Record<string, unknown>) => this.emit('report', 'motion', d));
  }

  /** The backend's name, for the node's birth certificate. */
  get hardwareKind(): string { return this.#hw.kind; }

  /** Opens the hardware and leaves it safe. A latched e-stop is reported once the node can say so. */
  async open(): Promise<void> {
    await this.#hw.open();
    this.writeSafe('start');
    const doubt = this.latch.fault;
    if (doubt) this.event('latch-fault', { error: doubt });
  }

  // ---- state ----------------------------------------------------------------
  get state(): SafetyState {
    if (this.hardwareFault || this.overheat || this.latch.fault) return 'fault';
    if (this.latch.latched) return 'estopped';
    if (this.armed) return 'armed';
    return this.hubAlive ? 'ready' : 'init';
  }

  get reason(): string { return this.lastReason; }

  /** ros2_control's words: active while armed, when leases may be lent. */
  get lifecycle(): 'inactive' | 'active' { return this.armed && this.state === 'armed' ? 'active' : 'inactive'; }

  /** True while the gate's own safe-pose glide is still writing (after a watchdog or a disarm). */
  get settling(): boolean { return this.glide.running; }

  /** May servos, LEDs and gestures move now? */
  canMove(): boolean { return this.lifecycle === 'active'; }

  /** May motors turn now? Not while an obstacle is too near. */
  canDrive(): boolean { return this.canMove() && this.obstacles.size === 0; }

  private update(reason: string): void {
    const s = this.state;
    if (s !== this.lastState) {
      this.lastState = s;
      this.lastReason = reason;
      this.emit('state', s, reason);
    }
  }

  private event<K extends SafetyEventKind>(kind: K, data: SafetyEventData[K]): void {
    this.emit('event', { kind, data } as SafetyEvent);
  }

  // ---- leases -----------------------------------------------------------------
  /** Lends a command interface while active; null while inactive (nothing may move). */
  acquire(holder: string): CommandLease | null {
    if (this.lifecycle !== 'active') return null;
    this.leasesLent++;
    return new CommandLease(holder, this.generation, this.port);
  }

  private readonly port: LeasePort = {
    alive: (lease) => this.isAlive(lease),
    servo: (lease, id, angle) => {
      const s = this.limits.servos.get(id);
      if (!this.isAlive(lease) || !s) return this.refuse(lease);
      // The speed limit counts from the last write; a late frame may not turn into a jump (two frames at most).
      const last = this.written.get(id);
      const dt = Math.min(last ? this.now() - last.at : FRAME_MS, FRAME_MS * 2);
      this.writeServoNow(id, this.limits.servoToward(s, this.servoPosition(id), angle, dt));
      return this.servoPosition(id);
    },
    motor: (lease, id, duty) => {
      if (!this.isAlive(lease) || !this.limits.motors.has(id)) return this.refuse(lease);
      const d = this.canDrive() ? this.limits.motor(id, duty).duty : 0;
      this.#hw.writeMotor(id, d);
      return d;
    },
    led: (lease, id, color, brightness) => {
      if (!this.isAlive(lease) || !this.leds.has(id)) return this.refuse(lease) !== null;
      const v = this.limits.led(color, brightness);
      this.#hw.writeLed(id, v.color, v.brightness);
      return true;
    },
  };

  private isAlive(lease: CommandLease): boolean {
    return lease.generation === this.generation && this.lifecycle === 'active';
  }

  private refuse(lease: CommandLease): null {
    this.refused.total++;
    this.refused.byHolder.set(lease.holder, (this.refused.byHolder.get(lease.holder) ?? 0) + 1);
    return null;
  }

  /** The angle last written to a servo (its rest angle before any write). */
  servoPosition(id: string): number {
    return this.written.get(id)?.angle ?? this.limits.servos.get(id)?.rest ?? 0;
  }

  private writeServoNow(id: string, angle: number): void {
    this.written.set(id, { angle, at: this.now() });
    this.#hw.writeServo(id, angle);
  }

  /** Kills every lease lent so far. Safe outputs are written by the caller first. */
  private revoke(cause: RevokeCause, reason: string): void {
    const wasActive = this.armed;
    this.armed = false;
    this.generation++;
    if (wasActive || CUT_CAUSES.has(cause)) {
      this.event('revoked', { cause, reason, leases: this.leasesLent });
      this.emit('revoked', cause, reason);
    }
  }

  // ---- safe outputs (never blocked, never throw) --------------------------------
  /** Category 0: cut actuators now (servos detach, motors stop), LEDs off. */
  private writeSafe(reason: string): void {
    this.glide.cancel();
    try { this.#hw.safe(reason); } catch { /* safe() must not throw; the state below still holds everything */ }
    this.allDark();
  }

  private allDark(): void {
    for (const id of this.leds.keys()) {
      try { this.#hw.writeLed(id, DARK, 0); } catch { /* best effort; safe() already tried */ }
    }
  }

  private stopMotors(): void {
    for (const id of this.limits.motors.keys()) {
      try { this.#hw.writeMotor(id, 0); } catch { /* keep going: the next motor must stop too */ }
    }
  }

  /** Category 2 (watchdog, disarm): motors stop, LEDs off, servos glide to rest within their limits. */
  private controlledStop(): void {
    this.stopMotors();
    this.allDark();
    this.glide.start([...this.limits.servos.values()].map((servo) => ({ servo, from: this.servoPosition(servo.id) })), this.now);
  }

  private cut(cause: RevokeCause, reason: string): void {
    this.writeSafe(reason);
    this.revoke(cause, reason);
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
      this.controlledStop();
      this.revoke('watchdog', reason);
      this.event('watchdog', { watchdogMs: this.watchdogMs, action: 'disarmed, safe pose' });
    }
    this.update(reason);
  }

  /** Arms the node: a new activation, so leases from before stay dead. Returns why not, in words. */
  arm(): { ok: true } | { ok: false; reason: string } {
    const s = this.state;
    if (s === 'estopped') return { ok: false, reason: this.buttonPressed ? 'the e-stop button is pressed' : 'e-stop is active: release it first' };
    if (s === 'fault') return { ok: false, reason: `fault: ${this.hardwareFault ?? this.overheat ?? this.latch.fault}` };
    if (!this.hubAlive) return { ok: false, reason: 'no hub heartbeat: the watchdog holds the node disarmed' };
    if (this.armed) return { ok: true };
    this.glide.cancel();
    this.generation++;
    this.armed = true;
    this.update('armed');
    return { ok: true };
  }

  disarm(reason = 'disarmed'): void {
    if (!this.armed) return;
    this.controlledStop();
    this.revoke('disarm', reason);
    this.update(reason);
  }

  /** An e-stop from any source. Cuts first, latches on disk, then tells everyone. */
  estop(source: EstopSource, reason: string, stamp?: Stamp): void {
    const first = !this.latch.latched;
    this.cut('estop', `e-stop: ${reason}`);
    const r = this.latch.estop(source, reason, stamp);
    if (first) this.event('estop', { source, reason, ...(stamp ? { stamp } : {}), persisted: r.persisted });
    if (r.error) this.event('latch-fault', { error: r.error });
    this.update(r.error ? `fault: ${r.error}` : `e-stop: ${reason}`);
  }

  /** A release: obeyed only if the latch accepts it (live, newer) and the button is out. */
  release(m: ReleaseMessage & { source?: string }): ReleaseDecision {
    if (this.buttonPressed) {
      const reason = 'release refused: the e-stop button is still pressed';
      this.event('release-refused', { reason, retained: m.retained, ...(m.stamp ? { stamp: m.stamp } : {}) });
      return { ok: false, reason };
    }
    const was = this.latch.latched;
    const d = this.latch.release(m);
    this.latchFaultCuts();
    if (!d.ok) {
      if (was || !m.retained) this.event('release-refused', { reason: d.reason, retained: m.retained, ...(m.stamp ? { stamp: m.stamp } : {}) });
      this.update(d.reason);
      return d;
    }
    if (was) this.event('release', { source: m.source ?? 'hub', ...(m.stamp ? { stamp: m.stamp } : {}) });
    this.update('e-stop released; arm again to move');
    return d;
  }

  /** The latch could not be stored while the node was armed: that is a fault, and a fault revokes. */
  private latchFaultCuts(): void {
    const error = this.latch.fault;
    if (!error || !this.armed) return;
    this.cut('fault', `fault: ${error}`);
    this.event('latch-fault', { error });
    this.update(`fault: ${error}`);
  }

  /** The physical e-stop button (debounced by the backend). Trips locally, asking nobody. */
  setEstopButton(pressed: boolean): void {
    this.buttonPressed = pressed;
    if (pressed) {
      this.estop('button', 'e-stop button pressed');
      this.event('estop-button', { pressed: true });
    } else {
      this.event('estop-button', { pressed: false, note: 'latched until a release' });
    }
  }

  hardwareFailed(reason: string): void {
    this.hardwareFault = reason;
    this.cut('fault', `fault: ${reason}`);
    this.event('fault', { reason });
    this.update(`fault: ${reason}`);
  }

  hardwareRecovered(): void {
    if (!this.hardwareFault) return;
    this.hardwareFault = null;
    // The board came back in its own safe state; make sure of it before anyone may arm.
    this.writeSafe('hardware recovered');
    this.event('recovered', {});
    this.update('hardware recovered; arm again to move');
  }

  /** Sensor readings drive the cut-outs. */
  reading(r: SensorReading): void {
    const limit = this.profile.safety?.maxTemperatureC;
    if (r.kind === 'temperature' && limit !== undefined) {
      if (!this.overheat && r.value > limit) {
        this.overheat = `overheat: ${r.sensor} reads ${r.value.toFixed(1)} °C, above the ${limit} °C limit`;
        this.cut('overheat', this.overheat);
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
        this.stopMotors();
        this.emit('motors-stopped', 'obstacle');
        this.event('obstacle', { sensor: r.sensor, cm: r.value, stopBelowCm: stopBelow });
      } else if (r.value >= stopBelow + DISTANCE_HYSTERESIS_CM && this.obstacles.delete(r.sensor)) {
        this.event('clear', { sensor: r.sensor, cm: r.value });
      }
    }
  }

  /** Stops the watchdog and revokes every lease; the hardware stays open (see shutdown). */
  close(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.glide.cancel();
    this.generation++;
    this.armed = false;
  }

  /** Goes safe and releases the hardware (node shutdown). */
  async shutdown(reason: string): Promise<void> {
    this.close();
    this.writeSafe(reason);
    await this.#hw.close();
  }
}
