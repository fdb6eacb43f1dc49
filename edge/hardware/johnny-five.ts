/**
 * HardwareBackend on Firmata boards (Kuroko firmware or StandardFirmata) through johnny-five and
 * serialport 13: servos, motors, LEDs and analog sensors declared in the profile.
 *
 * Writes go straight to the Firmata io that johnny-five hosts, not through johnny-five's Servo/Led
 * objects: those cache the last value and skip "repeats", which would leave a servo detached after
 * the firmware failsafe tripped. Every value is clamped to the profile here, the last software layer.
 *
 * Extra events besides those of HardwareBackend:
 *  - 'board-failsafe' ({ board, type: 'failsafe-tripped' | 'host-returned' | 'status', ... }):
 *    what the Kuroko firmware reports about its own host-silence failsafe.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ProfileT, ServoT, MotorT, LedT, SensorT } from '../../firmware-config/profile-schema.ts';
import { analogChannel, pinNumber, type BoardModel } from '../../firmware-config/boards.ts';
import type { HardwareBackend, Rgb, SensorReading } from './types.ts';
import { BoardLink, K, enc21, type FirmataIo, type IoOpener, type KurokoMessage } from './board-link.ts';
import { DEFAULT_PULSE_US, adcVolts, gp2y0a21Cm, ledOffOutputs, ledOutputs, lm35C, motorOutputs, servoPulseUs, tmp36C } from './conversions.ts';

export interface JohnnyFiveOptions {
  /** Opens a port and returns a ready Firmata io; tests pass one that returns mock-firmata. */
  opener?: IoOpener;
  /** REPORT_VERSION ping period (ms); 0 disables board supervision. Default 250. */
  pingMs?: number;
  /** No answer for this long = the board is lost. Default 1000. */
  answerTimeoutMs?: number;
  reopenMs?: number;
  log?: Logger;
}

type AnalogSensor = Extract<SensorT, { kind: 'distance' | 'temperature' }>;
interface Placed<T> { dev: T; board: string; model: BoardModel }
interface ServoState extends Placed<ServoT> { pin: number; attached: boolean; pulse: { min: number; max: number } }

const MODE = { INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4 } as const;

export class JohnnyFiveHardware extends EventEmitter implements HardwareBackend {
  readonly kind = 'johnny-five';
  readonly links = new Map<string, BoardLink>();
  private readonly models = new Map<string, BoardModel>();
  private readonly servos = new Map<string, ServoState>();
  private readonly motors = new Map<string, Placed<MotorT>>();
  private readonly leds = new Map<string, Placed<LedT>>();
  private readonly sensors = new Map<string, Placed<AnalogSensor>>();
  private readonly latest = new Map<string, SensorReading>();
  private readonly lastEmit = new Map<string, number>();
  private readonly failsafeMs: number;

  constructor(private readonly profile: ProfileT, private readonly opts: JohnnyFiveOptions = {}) {
    super();
    const boards = profile.boards ?? [];
    for (const b of boards) {
      this.models.set(b.id, b.model ?? 'uno');
      this.links.set(b.id, new BoardLink(b.id, b.port, b.baud ?? 57600, {
        opener: opts.opener, pingMs: opts.pingMs, answerTimeoutMs: opts.answerTimeoutMs, reopenMs: opts.reopenMs, log: opts.log,
      }));
    }
    this.failsafeMs = boards[0]?.failsafeMs ?? profile.safety?.watchdogMs ?? 500;
    const place = (board: string | undefined) => {
      const id = board ?? boards[0]?.id;
      if (!id || !this.models.has(id)) throw new Error(`unknown board "${board ?? '(none declared)'}"`);
      return { board: id, model: this.models.get(id)! };
    };
    for (const s of profile.servos ?? []) {
      if (s.pin === undefined) continue;
      const where = place(s.board);
      this.servos.set(s.id, { dev: s, ...where, pin: pinNumber(where.model, s.pin), attached: false, pulse: s.pulseUs ?? { ...DEFAULT_PULSE_US } });
    }
    for (const m of profile.motors ?? []) if (m.pins) this.motors.set(m.id, { dev: m, ...place(m.board) });
    for (const l of profile.leds ?? []) if (l.pin !== undefined || l.pins) this.leds.set(l.id, { dev: l, ...place(l.board) });
    for (const s of profile.sensors ?? []) {
      if ((s.kind === 'distance' || s.kind === 'temperature') && s.pin !== undefined && s.model !== 'sim' && s.model !== 'ds18b20' && s.model !== 'thermal-zone') {
        this.sensors.set(s.id, { dev: s, ...place(s.board) });
      }
    }
  }

  async open(): Promise<void> {
    for (const [id, link] of this.links) {
      link.on('ready', (io: FirmataIo) => this.configure(id, io));
      link.on('fault', (reason: string) => {
        this.markDetached(id);
        // A lost board's last readings must not pass for fresh ones.
        for (const s of this.sensors.values()) if (s.board === id) this.latest.delete(s.dev.id);
        this.emit('fault', `board ${id}: ${reason}`);
        // The lost board is safe by its own failsafe (or reset); the others go safe too: a robot
        // whose head board is gone must not keep driving its wheels.
        this.safe(`board ${id} lost`);
      });
      link.on('recovered', () => this.emit('recovered'));
      link.on('kuroko', (m: KurokoMessage) => {
        if (m.type === 'failsafe-tripped') this.markDetached(id);
        this.opts.log?.info({ board: id, ...m }, 'kuroko firmware report');
        this.emit('board-failsafe', { board: id, ...m });
      });
    }
    await Promise.all([...this.links.values()].map((l) => l.open()));
  }

  private markDetached(board: string): void {
    for (const s of this.servos.values()) if (s.board === board) s.attached = false;
  }

  private ioOf(board: string): FirmataIo | null {
    const link = this.links.get(board);
    return link?.state === 'ready' ? link.io : null;
  }

  /** Puts every pin of one board in its mode and safe level; runs on each (re)connect. */
  private configure(board: string, io: FirmataIo): void {
    const link = this.links.get(board)!;
    const model = this.models.get(board)!;
    const safeState = (pin: number, level: number) => link.kuroko(K.SET_SAFE_STATE, [pin, level ? 1 : 0]);
    link.kuroko(K.SET_FAILSAFE, enc21(this.failsafeMs));
    for (const s of this.servos.values()) if (s.board === board) s.attached = false; // attached on first write
    for (const { dev: m, board: b, model: mdl } of this.motors.values()) {
      if (b !== board) continue;
      const p = m.pins!;
      for (const k of ['pwm', 'a', 'b'] as const) {
        if (p[k] === undefined) continue;
        const pin = pinNumber(mdl, p[k]!);
        io.pinMode(pin, MODE.PWM); io.analogWrite(pin, 0); safeState(pin, 0);
      }
      if (p.dir !== undefined) { const pin = pinNumber(mdl, p.dir); io.pinMode(pin, MODE.OUTPUT); io.digitalWrite(pin, 0); safeState(pin, 0); }
    }
    for (const { dev: l, board: b, model: mdl } of this.leds.values()) {
      if (b !== board) continue;
      const pins = this.ledPins(l, mdl);
      const off = ledOffOutputs(l);
      pins.forEach((pin, i) => {
        if (l.type === 'single') { io.pinMode(pin, MODE.OUTPUT); io.digitalWrite(pin, off[i]!); safeState(pin, off[i]!); }
        else { io.pinMode(pin, MODE.PWM); io.analogWrite(pin, off[i]!); safeState(pin, off[i]! > 127 ? 1 : 0); }
      });
    }
    for (const { dev: s, board: b } of this.sensors.values()) {
      if (b !== board) continue;
      const ch = analogChannel(model, s.pin!);
      if (ch === null) continue;
      io.pinMode(ch, MODE.ANALOG); // firmata.js takes the analog channel for ANALOG mode
      io.analogRead(ch, (raw: number) => this.onAnalog(s, raw));
    }
    link.kuroko(K.STATUS);
  }

  private ledPins(l: LedT, model: BoardModel): number[] {
    if (l.type === 'rgb' && l.pins) return [l.pins.r, l.pins.g, l.pins.b].map((p) => pinNumber(model, p));
    return l.pin === undefined ? [] : [pinNumber(model, l.pin)];
  }

  private onAnalog(s: AnalogSensor, raw: number): void {
    const v = adcVolts(raw);
    let r: SensorReading;
    if (s.kind === 'distance') r = { sensor: s.id, kind: 'distance', value: gp2y0a21Cm(v), unit: 'cm' };
    else r = { sensor: s.id, kind: 'temperature', value: s.model === 'tmp36' ? tmp36C(v) : lm35C(v), unit: 'C' };
    this.latest.set(s.id, r);
    const period = s.periodMs ?? (s.kind === 'distance' ? 200 : 1000);
    const now = Date.now();
    if (now - (this.lastEmit.get(s.id) ?? 0) >= period) {
      this.lastEmit.set(s.id, now);
      this.emit('reading', r);
    }
  }

  writeServo(id: string, angleDeg: number): void {
    const s = this.servos.get(id);
    if (!s) return;
    const io = this.ioOf(s.board);
    const us = servoPulseUs({ ...s.dev, pulseUs: s.pulse }, angleDeg);
    if (!io || us === null) return;
    if (!s.attached) { io.servoConfig(s.pin, s.pulse.min, s.pulse.max); s.attached = true; }
    // Values >= 544 are microseconds to Firmata; the schema keeps pulse ranges at or above that.
    io.servoWrite(s.pin, us);
  }

  writeMotor(id: string, duty: number): void {
    const m = this.motors.get(id);
    if (!m) return;
    const io = this.ioOf(m.board);
    if (!io) return;
    const out = motorOutputs(m.dev, duty);
    const p = m.dev.pins!;
    if (m.dev.driver === 'pwm-dir') {
      // Direction first, so the motor never spins the old way at the new speed.
      if (out.pwm === 0) io.analogWrite(pinNumber(m.model, p.pwm!), 0);
      io.digitalWrite(pinNumber(m.model, p.dir!), out.forward ? 0 : 1);
      if (out.pwm !== 0) io.analogWrite(pinNumber(m.model, p.pwm!), out.pwm);
    } else {
      io.analogWrite(pinNumber(m.model, p.a!), out.a);
      io.analogWrite(pinNumber(m.model, p.b!), out.b);
    }
  }

  writeLed(id: string, color: Rgb, brightness: number): void {
    const l = this.leds.get(id);
    if (!l) return;
    const io = this.ioOf(l.board);
    if (!io) return;
    const values = ledOutputs(l.dev, color, brightness);
    this.ledPins(l.dev, l.model).forEach((pin, i) => {
      if (l.dev.type === 'single') io.digitalWrite(pin, values[i]!);
      else io.analogWrite(pin, values[i]!);
    });
  }

  readSensors(): SensorReading[] {
    return [...this.latest.values()];
  }

  safe(reason: string): void {
    this.opts.log?.warn({ reason }, 'hardware safe');
    for (const [id, link] of this.links) {
      const io = this.ioOf(id);
      if (!io) continue;
      try {
        link.kuroko(K.GO_SAFE); // the firmware does the same, in one message, if it is ours
        for (const m of this.motors.values()) if (m.board === id) this.writeMotor(m.dev.id, 0);
        for (const s of this.servos.values()) {
          if (s.board !== id) continue;
          // Leaving servo mode detaches the servo: no pulses, the horn goes limp.
          io.pinMode(s.pin, MODE.OUTPUT);
          io.digitalWrite(s.pin, 0);
          s.attached = false;
        }
        for (const l of this.leds.values()) if (l.board === id) this.writeLed(l.dev.id, { r: 0, g: 0, b: 0 }, 0);
      } catch (e) {
        this.opts.log?.error({ board: id, err: (e as Error).message }, 'safe() could not reach the board');
      }
    }
  }

  async close(): Promise<void> {
    this.safe('close');
    // Let the safe-state bytes leave the serial buffer before the port closes.
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([...this.links.values()].map((l) => l.close()));
  }
}
