/**
 * Drives kuroko-avr-sim (the emulated Uno) from TypeScript: start it, learn its pty path, read pin
 * levels and servo pulse widths, inject ADC voltages. Tests and the benchmark use it; the board it
 * emulates is reached through the pty exactly as a real one through /dev/ttyACM0.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { buildFirmware, buildSimulator } from '../build-tools.ts';

export interface EmulatorState {
  tUs: number;
  /** '0'/'1' per pin 0..19 (A0..A5 are 14..19). */
  levels: string;
  outputs: string;
  timer1: { icr1: number; ocr1a: number; ocr1b: number; com1a: number; com1b: number; tccr1b: number };
  /** Duty 0..255 of each PWM pin, -1 when the pin is not driven by its timer. */
  pwm: Record<'3' | '5' | '6' | '9' | '10' | '11', number>;
  /** Measured pulses on pins toggled by software (soft servos). */
  pulses: Record<string, { widthUs: number; ageMs: number }>;
}

export interface EmulatorOptions {
  /** Application firmware (.hex); default: the Kuroko firmware, built on demand. null: none (bootloader only). */
  firmware?: string | null;
  /** Boot optiboot first, so avrdude can flash through the pty. */
  bootloader?: boolean;
  /** Also make this path a symlink to the pty (a stable "device path" across emulator restarts). */
  link?: string;
}

export class EmulatedUno extends EventEmitter {
  private waiters: Array<(line: string) => boolean> = [];
  private exited = false;

  private constructor(private readonly proc: ChildProcessWithoutNullStreams, readonly ptyPath: string) {
    super();
  }

  static async start(opts: EmulatorOptions = {}): Promise<EmulatedUno> {
    const { sim, optiboot } = buildSimulator();
    const args: string[] = [];
    const firmware = opts.firmware === undefined ? buildFirmware() : opts.firmware;
    if (firmware) args.push('--firmware', firmware);
    if (opts.bootloader) args.push('--bootloader', optiboot);
    if (opts.link) args.push('--link', opts.link);
    const proc = spawn(sim, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const lines = createInterface({ input: proc.stdout });
    const ptyPath = await new Promise<string>((resolve, reject) => {
      const onLine = (l: string) => { if (l.startsWith('pty ')) { lines.off('line', onLine); resolve(l.slice(4).trim()); } };
      lines.on('line', onLine);
      proc.once('exit', (code) => reject(new Error(`kuroko-avr-sim exited (${code}) before it opened a pty: ${stderr}`)));
      proc.once('error', reject);
    });
    const emu = new EmulatedUno(proc, ptyPath);
    lines.on('line', (l) => emu.onLine(l));
    proc.once('exit', () => { emu.exited = true; emu.emit('exit'); });
    return emu;
  }

  private onLine(line: string): void {
    if (line === 'open' || line === 'close') this.emit(line);
    if (line.startsWith('error')) this.emit('sim-error', line);
    const i = this.waiters.findIndex((w) => w(line));
    if (i >= 0) this.waiters.splice(i, 1);
  }

  private request(cmd: string, match: (l: string) => boolean): Promise<string> {
    if (this.exited) return Promise.reject(new Error('the emulator has exited'));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`emulator did not answer "${cmd}"`)), 5000);
      this.waiters.push((l) => { if (!match(l)) return false; clearTimeout(t); resolve(l); return true; });
      this.proc.stdin.write(`${cmd}\n`);
    });
  }

  async state(): Promise<EmulatorState> {
    const l = await this.request('state', (x) => x.startsWith('state '));
    return JSON.parse(l.slice(6)) as EmulatorState;
  }

  /** Puts a voltage on analog input A<channel>. */
  async setAdc(channel: number, volts: number): Promise<void> {
    await this.request(`adc ${channel} ${Math.round(volts * 1000)}`, (x) => x === 'ok' || x.startsWith('error'));
  }

  /** Drives input pin `pin` high or low from outside the MCU. */
  async setPin(pin: number, high: boolean): Promise<void> {
    await this.request(`pin ${pin} ${high ? 1 : 0}`, (x) => x === 'ok' || x.startsWith('error'));
  }

  /** Freezes the MCU (a hung board): the pty stays open but nothing answers. */
  async pause(): Promise<void> { await this.request('pause', (x) => x === 'ok'); }
  async resume(): Promise<void> { await this.request('resume', (x) => x === 'ok'); }

  async reset(): Promise<void> {
    await this.request('reset', (x) => x === 'ok');
  }

  /** Servo pulse width on pin 9 or 10 (timer 1 compare, 0.5 us ticks); 0 when detached. */
  static hardwarePulseUs(s: EmulatorState, pin: 9 | 10): number {
    if (pin === 9) return s.timer1.com1a ? s.timer1.ocr1a / 2 : 0;
    return s.timer1.com1b ? s.timer1.ocr1b / 2 : 0;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.stdin.end('quit\n');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 2000);
    await done;
    clearTimeout(t);
  }
}
