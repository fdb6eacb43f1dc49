/**
 * The gate's own controlled stop (watchdog, disarm): every servo glides to its rest angle at its
 * speed limit, in 50 Hz frames, written by the gate itself. Nothing else may write while it runs
 * (every lease has been revoked), and an e-stop or fault cancels it and cuts instead.
 */
import type { ServoT } from '../firmware-config/profile-schema.ts';

export interface GlideTarget { servo: ServoT; from: number }

export class SafePoseGlide {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly write: (id: string, angle: number) => void, private readonly frameMs = 20) {}

  get running(): boolean { return this.timer !== null; }

  /** Starts (or restarts) the glide from the given positions; resolves nothing, it just runs. */
  start(targets: GlideTarget[], now: () => number): void {
    this.cancel();
    const pending = targets.filter((t) => t.from !== t.servo.rest).map((t) => ({ ...t, at: t.from }));
    if (!pending.length) return;
    let last = now();
    this.timer = setInterval(() => {
      const t = now();
      // A late timer may not turn into a jump: at most two frames' worth per write.
      const dt = Math.min(t - last, this.frameMs * 2);
      last = t;
      for (const p of pending) {
        if (p.at === p.servo.rest) continue;
        const step = (p.servo.maxSpeed * dt) / 1000;
        const d = p.servo.rest - p.at;
        p.at = Math.abs(d) <= step ? p.servo.rest : p.at + Math.sign(d) * step;
        this.write(p.servo.id, p.at);
      }
      if (pending.every((p) => p.at === p.servo.rest)) this.cancel();
    }, this.frameMs);
    this.timer.unref?.();
  }

  cancel(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
