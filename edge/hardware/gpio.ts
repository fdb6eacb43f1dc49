/**
 * The e-stop button's software contact, on a GPIO line through onoff (sysfs, interrupt-driven via
 * epoll) or, where the kernel has no sysfs GPIO, through the GPIO character device with our
 * kuroko_gpio addon (gpio-chardev.ts); gpio.backend in the profile, else detected. A press emits 'estop-input' (true) at once, so the node trips its e-stop locally without
 * asking the hub; the release is reported only after the line has been stable for debounceMs.
 * This is an extra layer: the button's other contact must cut actuator power by wire (README).
 */
import { EventEmitter } from 'node:events';
import onoff from 'onoff';
import type { Logger } from 'pino';
import { resolveGpioOffset } from './gpio-offset.ts';
import { ChardevInputLine, chooseGpioBackend, loadGpioBinding, resolveChip, type GpioBackendName, type GpioBinding } from './gpio-chardev.ts';

/** The part of onoff's Gpio that the e-stop uses; tests hand in a fake. */
export interface GpioLine {
  readSync(): 0 | 1;
  watch(cb: (err: Error | null | undefined, value: 0 | 1) => void): void;
  unwatchAll(): void;
  unexport(): void;
}
export type GpioFactory = (sysfsNumber: number, opts: { activeLow: boolean }) => GpioLine;

const onoffFactory: GpioFactory = (n, { activeLow }) => {
  const { Gpio } = onoff as unknown as { Gpio: (new (n: number, dir: string, edge: string, o: object) => GpioLine) & { accessible: boolean } };
  if (!Gpio.accessible) throw new Error('GPIO is not accessible (no /sys/class/gpio, or this user is not in the gpio group)');
  return new Gpio(n, 'in', 'both', { activeLow });
};

export interface EstopOptions {
  line: number;
  activeLow?: boolean;
  debounceMs?: number;
  chipOffset?: number | 'auto';
  sysfsRoot?: string;
  /** 'auto' (default): sysfs where it exists, else the character device. */
  backend?: 'auto' | GpioBackendName;
  /** Character device: the chip (path, gpiochipN or label; default: the header chip by label). */
  chip?: string;
  devDir?: string;
  /** Character device: the addon, or a fake chip in tests. */
  binding?: GpioBinding;
  factory?: GpioFactory;
  log?: Logger;
}

/** Character-device lines: the line number is the chip's offset; active-low is the kernel's flag. */
function chardevFactory(opts: EstopOptions): GpioFactory {
  return (line, { activeLow }) => {
    const binding = opts.binding ?? loadGpioBinding();
    return new ChardevInputLine(binding, resolveChip(binding, opts.chip, opts.devDir), line, { activeLow });
  };
}

export class GpioEstop extends EventEmitter {
  private gpio: GpioLine | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Debounced state: true = pressed (stop). */
  pressed = false;
  readonly sysfsNumber: number;
  readonly backend: GpioBackendName;

  constructor(private readonly opts: EstopOptions) {
    super();
    // A test's factory stands in for sysfs unless the backend is named.
    this.backend = opts.factory && !opts.backend ? 'sysfs' : chooseGpioBackend(opts.backend, opts.sysfsRoot, opts.devDir);
    // The character device numbers lines per chip: no sysfs base to add.
    this.sysfsNumber = this.backend === 'sysfs' ? resolveGpioOffset(opts.chipOffset, opts.sysfsRoot) + opts.line : opts.line;
  }

  open(): void {
    // activeLow: a button to ground with a pull-up reads 0 when pressed; onoff (or the kernel's
    // active-low flag on the character device) inverts it to 1.
    const factory = this.opts.factory ?? (this.backend === 'chardev' ? chardevFactory(this.opts) : onoffFactory);
    this.gpio = factory(this.sysfsNumber, { activeLow: this.opts.activeLow ?? true });
    this.pressed = this.gpio.readSync() === 1;
    if (this.pressed) this.emit('estop-input', true); // pressed at start: the node must start stopped
    this.gpio.watch((err, value) => {
      if (err) { this.opts.log?.error({ err: err.message }, 'e-stop GPIO error'); this.emit('error', err); return; }
      this.edge(value === 1);
    });
  }

  private edge(pressedNow: boolean): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    // A press counts at once: bounce can only delay a stop, never cancel it.
    if (pressedNow && !this.pressed) { this.pressed = true; this.emit('estop-input', true); return; }
    if (!pressedNow && this.pressed) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.gpio?.readSync() === 0) { this.pressed = false; this.emit('estop-input', false); }
      }, this.opts.debounceMs ?? 30);
    }
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.gpio?.unwatchAll();
    this.gpio?.unexport();
    this.gpio = null;
  }
}
