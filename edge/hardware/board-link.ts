/**
 * One supervised Firmata board. johnny-five never reconnects after a USB loss, and re-creating a
 * board on a port that was not closed fails with "Cannot lock port"; so this link owns the serial
 * port, pings REPORT_VERSION (which also feeds the Kuroko firmware's host-silence failsafe),
 * declares a fault when no answer comes within answerTimeoutMs, closes everything, and reopens a
 * fresh port + Firmata + johnny-five board when the device answers again.
 *
 * Events: 'ready' (io, reopened: boolean), 'fault' (reason), 'recovered' (),
 *         'kuroko' (msg: KurokoMessage) for the firmware's failsafe reports.
 */
import { EventEmitter } from 'node:events';
import five from 'johnny-five';
import firmataIo from 'firmata-io';
import { SerialPort } from 'serialport';
import type { Logger } from 'pino';

/** The Firmata io methods the backend uses (firmata.js or mock-firmata). */
export interface FirmataIo extends EventEmitter {
  isReady: boolean;
  firmware?: { name?: string; version?: { major: number; minor: number } };
  MODES: Record<string, number>;
  pins: Array<{ supportedModes: number[]; analogChannel: number }>;
  analogPins: number[];
  transport?: { write(data: Buffer | number[]): unknown };
  pinMode(pin: number, mode: number): void;
  digitalWrite(pin: number, value: number): void;
  analogWrite(pin: number, value: number): void;
  servoConfig(pin: number, min: number, max: number): void;
  servoWrite(pin: number, value: number): void;
  analogRead(channel: number, cb: (value: number) => void): void;
  reportAnalogPin?(channel: number, on: 0 | 1): void;
  reportVersion?(cb: () => void): void;
  sysexCommand?(bytes: number[]): void;
  sysexResponse?(cmd: number, handler: (this: FirmataIo, data: number[]) => void): void;
}

export interface OpenedIo { io: FirmataIo; close(): Promise<void> }
export type IoOpener = (port: string, baud: number) => Promise<OpenedIo>;

export const KUROKO_SYSEX = 0x0e;
export const K = { SET_FAILSAFE: 0x01, TRIPPED: 0x02, HOST_RETURNED: 0x03, SET_SAFE_STATE: 0x04, GO_SAFE: 0x05, STATUS: 0x06 } as const;
export type KurokoMessage =
  | { type: 'failsafe-tripped'; reason: 'host-silent' | 'commanded'; silentMs: number }
  | { type: 'host-returned'; silentMs: number }
  | { type: 'status'; failsafeMs: number; tripped: boolean; version: string };

const u21 = (b: number[], i: number) => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 7) | ((b[i + 2] ?? 0) << 14);

/** Decodes a Kuroko sysex payload (the bytes after the sysex id). */
export function decodeKuroko(data: number[]): KurokoMessage | null {
  switch (data[0]) {
    case K.TRIPPED: return { type: 'failsafe-tripped', reason: data[1] === 2 ? 'commanded' : 'host-silent', silentMs: u21(data, 2) };
    case K.HOST_RETURNED: return { type: 'host-returned', silentMs: u21(data, 1) };
    case K.STATUS: return { type: 'status', failsafeMs: u21(data, 1), tripped: data[4] === 1, version: `${data[5]}.${data[6]}` };
    default: return null;
  }
}
export const enc21 = (v: number) => [v & 0x7f, (v >> 7) & 0x7f, (v >> 14) & 0x7f];

let sysexRegistered = false;
/** firmata.js keeps sysex handlers on the class, so one handler serves every board: it re-emits on the board. */
function registerKurokoSysex(io: FirmataIo): void {
  if (sysexRegistered || !io.sysexResponse) return;
  try {
    io.sysexResponse(KUROKO_SYSEX, function (this: FirmataIo, data: number[]) { this.emit('kuroko-sysex', data); });
  } catch { /* already registered by an earlier board */ }
  sysexRegistered = true;
}

/** Opens a real serial port and brings up Firmata + johnny-five on it. */
export const openSerialFirmata: IoOpener = async (path, baud) => {
  const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
  let board: InstanceType<typeof five.Board> | null = null;
  const close = () => new Promise<void>((resolve) => {
    // johnny-five keeps every board it ever made in a module-level cache: drop ours, or each
    // USB loss would leak a board, its io and its port.
    const cache = five.Board.cache;
    const i = board ? cache.indexOf(board) : -1;
    if (i >= 0) cache.splice(i, 1);
    if (!port.isOpen) return resolve();
    port.close(() => resolve()); // an unplugged port errors here; the fd is released either way
  });
  // johnny-five's own Firmata import drags in serialport 8 (no native build here): hand it an io
  // made by firmata-io on our serialport 13 port instead. Both must listen before the port opens:
  // johnny-five only turns ready after the io's 'connect' (= port 'open').
  const io = new firmataIo.Firmata(port, { reportVersionTimeout: 500 }) as FirmataIo;
  registerKurokoSysex(io);
  // sigint: false, or johnny-five installs a SIGINT handler that exits the whole node.
  board = new five.Board({ io, repl: false, debug: false, sigint: false });
  const j5 = board;
  // johnny-five has its own connect timeout that emits 'error' later, even after we gave up on
  // this board: without a listener that would crash the node.
  j5.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no Firmata answer on ${path} within 5 s (is Kuroko or StandardFirmata flashed, at ${baud} baud?)`)), 5000);
      j5.once('ready', () => { clearTimeout(t); resolve(); });
      j5.once('error', (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
      io.once('error', (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
      port.open((e) => { if (e) { clearTimeout(t); reject(e); } });
    });
    return { io, close };
  } catch (e) {
    await close();
    throw e;
  }
};

export interface BoardLinkOptions {
  opener?: IoOpener;
  /** How often to ask REPORT_VERSION; 0 turns supervision off. */
  pingMs?: number;
  answerTimeoutMs?: number;
  reopenMs?: number;
  log?: Logger;
}

export class BoardLink extends EventEmitter {
  private opened: OpenedIo | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private reopenTimer: NodeJS.Timeout | null = null;
  private lastAnswer = 0;
  private closed = false;
  state: 'idle' | 'ready' | 'faulted' | 'closed' = 'idle';

  constructor(readonly id: string, readonly port: string, readonly baud: number, private readonly opts: BoardLinkOptions = {}) {
    super();
  }

  get io(): FirmataIo | null { return this.opened?.io ?? null; }
  get isKuroko(): boolean { return this.io?.firmware?.name === 'Kuroko'; }

  async open(): Promise<void> {
    this.closed = false;
    await this.connect(false);
  }

  private async connect(reopened: boolean): Promise<void> {
    const opened = await (this.opts.opener ?? openSerialFirmata)(this.port, this.baud);
    if (this.closed) { await opened.close(); return; }
    this.opened = opened;
    const io = opened.io;
    io.on('kuroko-sysex', (data: number[]) => { const m = decodeKuroko(data); if (m) this.emit('kuroko', m); });
    io.on('reportversion', () => { this.lastAnswer = Date.now(); });
    io.on('close', () => this.fault('serial port closed'));
    io.on('disconnect', () => this.fault('serial device disconnected'));
    io.on('error', (e: Error) => this.fault(`serial error: ${e.message}`));
    this.lastAnswer = Date.now();
    this.state = 'ready';
    this.startPing();
    this.emit('ready', io, reopened);
    if (reopened) this.emit('recovered');
  }

  private startPing(): void {
    const every = this.opts.pingMs ?? 250;
    if (!every) return;
    const timeout = this.opts.answerTimeoutMs ?? 1000;
    this.pingTimer = setInterval(() => {
      const io = this.io;
      if (!io || this.state !== 'ready') return;
      if (Date.now() - this.lastAnswer > timeout) { this.fault(`board ${this.id} did not answer REPORT_VERSION within ${timeout} ms`); return; }
      try {
        if (io.transport?.write) io.transport.write(Buffer.from([0xf9]));
        else io.reportVersion?.(() => undefined);
      } catch (e) { this.fault(`write failed: ${(e as Error).message}`); }
    }, every);
    this.pingTimer.unref();
  }

  /** Declares the board lost: stop, release the port, and keep trying to reopen it. */
  fault(reason: string): void {
    if (this.state !== 'ready') return;
    this.state = 'faulted';
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    this.opts.log?.warn({ board: this.id, reason }, 'board lost');
    this.emit('fault', reason);
    const old = this.opened;
    this.opened = null;
    old?.io.removeAllListeners('reportversion');
    void (old?.close() ?? Promise.resolve()).finally(() => this.scheduleReopen());
  }

  private scheduleReopen(): void {
    if (this.closed) return;
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      this.connect(true).then(
        () => this.opts.log?.info({ board: this.id }, 'board reopened'),
        (e: Error) => { this.opts.log?.debug({ board: this.id, err: e.message }, 'reopen failed; retrying'); this.scheduleReopen(); },
      );
    }, this.opts.reopenMs ?? 500);
    this.reopenTimer.unref();
  }

  /** Sends a Kuroko sysex; ignored by other firmware. */
  kuroko(sub: number, bytes: number[] = []): void {
    if (!this.isKuroko) return;
    this.io?.sysexCommand?.([KUROKO_SYSEX, sub, ...bytes]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.state = 'closed';
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.reopenTimer) clearTimeout(this.reopenTimer);
    const old = this.opened;
    this.opened = null;
    await old?.close();
  }
}
