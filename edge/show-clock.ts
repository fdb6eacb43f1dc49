/**
 * The node's estimate of the hub's show clock. Each hub heartbeat carries the hub's show time;
 * a sample (hubShowTime - localReceiveTime) equals the true offset minus the network delay, so the
 * largest sample in a recent window is the best estimate (the least-delayed message wins, as in NTP).
 * Cues sent ahead with a start time `at` then begin at the same instant on every node.
 */
import { performance } from 'node:perf_hooks';

export class ShowClock {
  private samples: number[] = [];
  private epoch: string | null = null;
  private lastHeard: number | null = null;

  constructor(private readonly windowSize = 50, private readonly now: () => number = () => performance.now()) {}

  /** Feed one hub heartbeat. A new hub epoch (a restarted hub) resets the estimate. */
  observe(hubShowTime: number, epoch: string, receivedAt = this.now()): void {
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.samples = [];
    }
    this.samples.push(hubShowTime - receivedAt);
    if (this.samples.length > this.windowSize) this.samples.shift();
    this.lastHeard = receivedAt;
  }

  get synced(): boolean {
    return this.samples.length > 0;
  }

  get hubEpoch(): string | null {
    return this.epoch;
  }

  /** Offset such that showTime = local monotonic time + offset. */
  get offsetMs(): number {
    return this.samples.length ? Math.max(...this.samples) : 0;
  }

  showNow(): number {
    return this.now() + this.offsetMs;
  }

  /** Local monotonic time at which a show time falls. */
  localTimeOf(showTime: number): number {
    return showTime - this.offsetMs;
  }

  /** ms since the last hub heartbeat, or null if none was heard. */
  hubAgeMs(): number | null {
    return this.lastHeard === null ? null : this.now() - this.lastHeard;
  }
}
