/**
 * The hub's side of "an e-stop cannot be lost": it stamps every e-stop and release it issues with
 * (epoch, seq), keeps the epoch growing across restarts (a small file in the journal directory,
 * written atomically, cross-checked with the last journal), and judges every `estop` message it
 * receives. A retained release older than the hub's own e-stop — what a broker restored from a
 * stale save serves — is not believed: the hub stays e-stopped and re-asserts its e-stop.
 */
import { readFileSync, writeFileSync, openSync, fsyncSync, closeSync, renameSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { compareStamps, formatStamp, type EstopT, type EstopStampT } from '../protocol/index.ts';

export interface EstopRecord { active: boolean; stamp: EstopStampT; source: string; reason?: string }

/** What to do with an incoming estop message. */
export type EstopVerdict =
  | { kind: 'echo' }                       // our own message coming back
  | { kind: 'engage'; record: EstopRecord }   // an e-stop: always obeyed, from any source
  | { kind: 'release'; record: EstopRecord }  // a live release newer than our e-stop
  | { kind: 'stale'; why: string };           // a release not to believe (retained, or older)

/** Writes a file so that a crash leaves either the old or the new content: tmp + fsync + rename. */
export function writeAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export class EstopLedger {
  private epochNow: number;
  private seq = 0;
  private readonly file: string | null = null;
  private readonly show: string;
  /** The newest e-stop or release this hub knows of (its own, restored, or obeyed). */
  current: EstopRecord | null = null;

  /**
   * Opens the ledger of a show: epoch = 1 + the highest of the stored epoch and the epoch of the
   * last journal (so deleting one of the two cannot make the epoch go back).
   */
  constructor(dir: string | null, show: string, restored: EstopRecord | null = null) {
    // No folder: a hub not started yet keeps its e-stops in memory (stopping never waits for a start).
    this.show = show;
    if (dir === null) {
      this.epochNow = (restored?.stamp.epoch ?? 0) + 1;
      this.current = restored;
      return;
    }
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${show}.epoch`);
    this.file = file;
    let stored = 0;
    try { stored = Number(JSON.parse(readFileSync(file, 'utf8')).epoch) || 0; } catch { /* first start */ }
    this.epochNow = Math.max(stored, restored?.stamp.epoch ?? 0) + 1;
    writeAtomic(file, JSON.stringify({ epoch: this.epochNow, show }) + '\n');
    this.current = restored;
  }

  /** This hub run's epoch: the first half of every stamp it issues. */
  get epoch(): number {
    return this.epochNow;
  }

  /**
   * A stamp a node reports having seen (its latch). Nodes accept only a release newer than every
   * e-stop they have seen, so a hub whose epoch is not above it (a new or wiped journal directory,
   * another hub before this one) would issue releases every node refuses, forever. Moving the epoch
   * above it keeps the node's rule intact: the next stamp this hub issues is newer than all it saw.
   * Returns true when the epoch moved.
   */
  observe(stamp: EstopStampT | undefined | null): boolean {
    // Our own stamps (or older ones of this epoch) need nothing: the next one we issue is newer.
    if (!stamp || stamp.epoch < this.epochNow || (stamp.epoch === this.epochNow && stamp.seq <= this.seq)) return false;
    this.epochNow = stamp.epoch + 1;
    this.seq = 0;
    if (this.file) writeAtomic(this.file, JSON.stringify({ epoch: this.epochNow, show: this.show }) + '\n');
    return true;
  }

  get active(): boolean {
    return this.current?.active ?? false;
  }

  /** A new stamped e-stop or release issued by this hub. */
  issue(active: boolean, source: string, reason?: string): EstopRecord {
    const record: EstopRecord = { active, stamp: { epoch: this.epochNow, seq: ++this.seq }, source, ...(reason ? { reason } : {}) };
    this.current = record;
    return record;
  }

  /** Judges an incoming estop message (retained = delivered from the broker's store). */
  judge(m: EstopT, retained: boolean): EstopVerdict {
    const mine = this.current;
    if (m.stamp && mine && compareStamps(m.stamp, mine.stamp) === 0 && m.active === mine.active) return { kind: 'echo' };
    const record: EstopRecord = { active: m.active, stamp: m.stamp ?? mine?.stamp ?? { epoch: 0, seq: 0 }, source: m.source, ...(m.reason ? { reason: m.reason } : {}) };
    if (m.active) {
      // A stamped e-stop older than what we hold was issued, then released, already: our own e-stop
      // echoing back after our release (the hub publishes both before the first comes back).
      if (m.stamp && mine && compareStamps(m.stamp, mine.stamp) < 0) return { kind: 'echo' };
      // Never argue with an e-stop. Keep the newest stamp we know so a later release outranks both.
      if (mine && compareStamps(record.stamp, mine.stamp) < 0) record.stamp = mine.stamp;
      if (mine?.active) return { kind: 'echo' };
      this.current = record;
      return { kind: 'engage', record };
    }
    if (!mine?.active) return { kind: 'echo' };
    if (retained) return { kind: 'stale', why: `a retained release (${formatStamp(m.stamp)}) from the broker's store; the hub's e-stop ${formatStamp(mine.stamp)} stands` };
    if (compareStamps(m.stamp, mine.stamp) <= 0) return { kind: 'stale', why: `a release (${formatStamp(m.stamp)}) not newer than the e-stop ${formatStamp(mine.stamp)}` };
    this.current = record;
    return { kind: 'release', record };
  }
}
