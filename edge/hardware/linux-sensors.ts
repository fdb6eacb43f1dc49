/**
 * Temperature sensors the Linux computer reads itself: DS18B20 on 1-wire (/sys/bus/w1/devices/28-*)
 * and thermal zones (/sys/class/thermal/thermal_zoneN), polled every periodMs.
 */
import { EventEmitter } from 'node:events';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { SensorT } from '../../firmware-config/profile-schema.ts';
import type { SensorReading } from './types.ts';
import { parseMilliC, parseW1Slave } from './conversions.ts';

type TempSensor = Extract<SensorT, { kind: 'temperature' }>;

/** The file holding a sensor's value, given its profile path (a device folder or the file). */
async function valueFile(s: TempSensor): Promise<string> {
  const p = s.path!;
  const isDir = await stat(p).then((st) => st.isDirectory(), () => false);
  if (!isDir) return p;
  return join(p, s.model === 'ds18b20' ? 'w1_slave' : 'temp');
}

export async function readLinuxTemperature(s: TempSensor): Promise<number | null> {
  const file = await valueFile(s);
  const text = await readFile(file, 'utf8');
  return file.endsWith('w1_slave') ? parseW1Slave(text) : parseMilliC(text);
}

export class LinuxSensors extends EventEmitter {
  private timers: NodeJS.Timeout[] = [];
  private readonly latest = new Map<string, SensorReading>();
  private readonly sensors: TempSensor[];

  constructor(sensors: SensorT[], private readonly log?: Logger) {
    super();
    this.sensors = sensors.filter((s): s is TempSensor => s.kind === 'temperature' && (s.model === 'ds18b20' || s.model === 'thermal-zone') && !!s.path);
  }

  open(): void {
    for (const s of this.sensors) {
      const poll = async () => {
        try {
          const v = await readLinuxTemperature(s);
          if (v === null) throw new Error('unreadable value (1-wire CRC failed?)');
          const r: SensorReading = { sensor: s.id, kind: 'temperature', value: Math.round(v * 10) / 10, unit: 'C' };
          this.latest.set(s.id, r);
          this.emit('reading', r);
        } catch (e) {
          // A stale temperature must not look fresh to the safety layer: drop it.
          this.latest.delete(s.id);
          this.log?.warn({ sensor: s.id, err: (e as Error).message }, 'temperature read failed');
        }
      };
      void poll();
      const t = setInterval(poll, s.periodMs ?? 1000);
      t.unref();
      this.timers.push(t);
    }
  }

  readSensors(): SensorReading[] { return [...this.latest.values()]; }

  close(): void { for (const t of this.timers) clearInterval(t); this.timers = []; }
}
