/**
 * Simulated hardware: servos, motors and LEDs that remember what they were told, and sensors that
 * play back the readings scripted in the profile. It lets a show run on a laptop or in CI with the
 * same node code as a real robot.
 */
import { EventEmitter } from 'node:events';
import type { ProfileT } from '../../firmware-config/profile-schema.ts';
import type { HardwareBackend, Rgb, SensorReading } from './types.ts';

interface Scripted { t: number; value: number }

export class SimHardware extends EventEmitter implements HardwareBackend {
  readonly kind = 'sim';
  readonly servos = new Map<string, number | null>();
  readonly motors = new Map<string, number>();
  readonly leds = new Map<string, { color: Rgb; brightness: number }>();
  /** Count of writes that moved something, so tests can prove that nothing moved. */
  moves = 0;
  private readonly script = new Map<string, { kind: 'distance' | 'temperature'; unit: 'cm' | 'C'; points: Scripted[]; periodMs: number }>();
  private readonly overrides = new Map<string, number>();
  private timers: NodeJS.Timeout[] = [];
  private readonly startedAt = Date.now();

  constructor(private readonly profile: ProfileT) {
    super();
    for (const s of profile.servos ?? []) this.servos.set(s.id, null);
    for (const m of profile.motors ?? []) this.motors.set(m.id, 0);
    for (const l of profile.leds ?? []) this.leds.set(l.id, { color: { r: 0, g: 0, b: 0 }, brightness: 0 });
    for (const s of profile.sensors ?? []) {
      if (s.kind === 'distance' || s.kind === 'temperature') {
        const fallback = s.kind === 'distance' ? 200 : 25;
        this.script.set(s.id, {
          kind: s.kind,
          unit: s.kind === 'distance' ? 'cm' : 'C',
          points: s.sim?.length ? [...s.sim].sort((a, b) => a.t - b.t) : [{ t: 0, value: fallback }],
          periodMs: s.periodMs ?? (s.kind === 'distance' ? 200 : 1000),
        });
      }
    }
  }

  async open(): Promise<void> {
    for (const [id, s] of this.script) {
      const t = setInterval(() => {
        const r = this.reading(id);
        if (r) this.emit('reading', r);
      }, s.periodMs);
      t.unref();
      this.timers.push(t);
    }
  }

  writeServo(id: string, angleDeg: number): void {
    if (!this.servos.has(id)) return;
    if (this.servos.get(id) !== angleDeg) this.moves++;
    this.servos.set(id, angleDeg);
  }

  writeMotor(id: string, duty: number): void {
    if (!this.motors.has(id)) return;
    if (duty !== 0) this.moves++;
    this.motors.set(id, duty);
  }

  writeLed(id: string, color: Rgb, brightness: number): void {
    if (this.leds.has(id)) this.leds.set(id, { color, brightness });
  }

  /** Tests and the demo can force a reading (for example an obstacle or an overheated body). */
  setReading(sensor: string, value: number): void {
    this.overrides.set(sensor, value);
    const r = this.reading(sensor);
    if (r) this.emit('reading', r);
  }

  private reading(id: string): SensorReading | null {
    const s = this.script.get(id);
    if (!s) return null;
    let value = this.overrides.get(id);
    if (value === undefined) {
      const t = Date.now() - this.startedAt;
      value = s.points[0]!.value;
      for (const p of s.points) if (p.t <= t) value = p.value;
    }
    return { sensor: id, kind: s.kind, value, unit: s.unit };
  }

  readSensors(): SensorReading[] {
    return [...this.script.keys()].map((id) => this.reading(id)!).filter(Boolean);
  }

  safe(_reason: string): void {
    for (const id of this.motors.keys()) this.motors.set(id, 0);
    // Simulated servos "detach": they hold no commanded angle.
    for (const id of this.servos.keys()) this.servos.set(id, null);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.safe('close');
  }
}
