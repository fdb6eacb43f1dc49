/**
 * A token bucket: `rate` events per second on average, bursts up to `burst`. Used to bound what an
 * attacker can make a process do (error reports, log lines, console commands), never to delay a stop.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Events refused since the last one let through (so the next report can say how many were dropped). */
  dropped = 0;

  constructor(private readonly rate: number, private readonly burst: number, private readonly now: () => number = () => performance.now()) {
    this.tokens = burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.rate);
    this.last = t;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.dropped++;
    return false;
  }

  /** Takes a token and returns how many were dropped before it (then resets the count); null when refused. */
  takeReporting(): number | null {
    if (!this.take()) return null;
    const d = this.dropped;
    this.dropped = 0;
    return d;
  }
}
