/**
 * The hub watches itself: a timer that should tick every `tickMs` measures how late it ran
 * (event-loop lag: a long GC, a blocked loop, SIGSTOP) and whether the wall clock jumped against
 * the monotonic clock (NTP step, suspend). A stall is the hub's own silence: it must not blame
 * the nodes for it (see NodeRegistry.forgive) and it must not carry a scene on by itself.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';

export interface Stall {
  /** How long the hub did not run (ms, monotonic). */
  stalledMs: number;
  /** Wall-clock minus monotonic change over the same tick (ms): a clock step, if large. */
  wallJumpMs: number;
  kind: 'stall' | 'clock-jump';
}

export interface StallWatchEvents { stall: [Stall] }

export class StallWatch extends EventEmitter<StallWatchEvents> {
  private timer: NodeJS.Timeout | null = null;
  private lastMono = performance.now();
  private lastWall = Date.now();
  /** Worst event-loop lag seen (ms), for metrics. */
  maxLagMs = 0;
  stalls = 0;

  constructor(private readonly o: { tickMs?: number; stallMs?: number; jumpMs?: number } = {}) {
    super();
  }

  start(): void {
    const tick = this.o.tickMs ?? 100;
    this.lastMono = performance.now();
    this.lastWall = Date.now();
    this.timer = setInterval(() => this.check(), tick);
    this.timer.unref();
  }

  /** Checks now (also called by parts that notice time passing, before they judge others by it). */
  check(): Stall | null {
    if (!this.timer) return null;
    const mono = performance.now();
    const wall = Date.now();
    const lag = mono - this.lastMono - (this.o.tickMs ?? 100);
    const jump = (wall - this.lastWall) - (mono - this.lastMono);
    this.lastMono = mono;
    this.lastWall = wall;
    if (lag > this.maxLagMs) this.maxLagMs = lag;
    let s: Stall | null = null;
    if (lag >= (this.o.stallMs ?? 500)) s = { stalledMs: Math.round(lag), wallJumpMs: Math.round(jump), kind: 'stall' };
    else if (Math.abs(jump) >= (this.o.jumpMs ?? 1000)) s = { stalledMs: 0, wallJumpMs: Math.round(jump), kind: 'clock-jump' };
    if (s) {
      this.stalls++;
      this.emit('stall', s);
    }
    return s;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
