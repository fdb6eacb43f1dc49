/**
 * The node's e-stop latch: an e-stop, from any source, is written to a small state file before
 * anything else is said about it, so the node comes back e-stopped after a crash, a restart or a
 * reboot. A release is accepted only when it is live (not replayed from the broker's retained
 * store) and its stamp (epoch, seq) is newer than every e-stop stamp this node has seen; anything
 * in doubt (an unreadable file, a failed write, an old or retained release) keeps the node stopped.
 *
 * The file is written atomically (tmp + fsync + rename + fsync of the folder), so a power cut
 * leaves either the old state or the new one, never half a file.
 */
import * as nodeFs from 'node:fs';
import { writeFileAtomic, type AtomicFs } from './atomic-file.ts';
import { compareStamps } from '../protocol/stamp.ts';

/** The hub's ordering stamp on every e-stop and release: compare epoch first, then seq (protocol/stamp.ts). */
export interface Stamp { epoch: number; seq: number }
export { compareStamps };

const newer = (a: Stamp | null | undefined, b: Stamp | null | undefined): Stamp | null => {
  if (!a) return b ?? null;
  if (!b) return a;
  return compareStamps(a, b) >= 0 ? a : b;
};

export type EstopSource = 'hub' | 'retained' | 'console' | 'button' | 'latch' | 'local';

/** What the state file holds. */
export interface LatchState {
  v: 1;
  latched: boolean;
  source: EstopSource | null;
  reason: string | null;
  /** Wall-clock ms when it latched (for the operator; never used to decide). */
  since: number | null;
  /** The newest stamp carried by an e-stop this node has seen: a release must be newer. */
  newestEstop: Stamp | null;
  /** The newest stamp of any kind seen (an unstamped e-stop needs a release newer than this). */
  newestSeen: Stamp | null;
  /** Set by an unstamped e-stop (button, console, local): the newest stamp seen when it latched.
   *  A release must be newer than this too, so one sent before that e-stop cannot end it. */
  unstampedFloor: Stamp | null;
  /** Once a stamp has been seen, unstamped releases are refused (see release()). */
  stampsSeen: boolean;
}

const UNLATCHED: LatchState = { v: 1, latched: false, source: null, reason: null, since: null, newestEstop: null, newestSeen: null, unstampedFloor: null, stampsSeen: false };

/** The file operations the latch needs; tests inject failures here. */
export interface LatchFs extends AtomicFs {
  readFileSync(path: string, enc: 'utf8'): string;
}

export interface LatchStore {
  /** The saved state, null when there is none yet (a first start); throws when it cannot be read. */
  load(): LatchState | null;
  /** Saves durably; throws when it cannot. */
  save(state: LatchState): void;
  readonly where: string;
}

/** The latch on disk: one JSON file, replaced atomically. */
export class FileLatchStore implements LatchStore {
  constructor(readonly path: string, private readonly fs: LatchFs = nodeFs) {}

  get where(): string { return this.path; }

  load(): LatchState | null {
    let text: string;
    try {
      text = this.fs.readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`cannot read the e-stop latch ${this.path}: ${(e as Error).message}`);
    }
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { throw new Error(`the e-stop latch ${this.path} is not valid JSON (a damaged file counts as latched)`); }
    if (!isLatchState(parsed)) throw new Error(`the e-stop latch ${this.path} has an unknown shape (a damaged file counts as latched)`);
    return parsed;
  }

  save(state: LatchState): void {
    writeFileAtomic(this.path, JSON.stringify(state) + '\n', this.fs);
  }
}

/** A latch that lives in memory only (tests, tools): it forgets on restart. */
export class MemoryLatchStore implements LatchStore {
  state: LatchState | null = null;
  readonly where = '(memory)';
  load(): LatchState | null { return this.state ? { ...this.state } : null; }
  save(state: LatchState): void { this.state = { ...state }; }
}

function isStamp(x: unknown): x is Stamp {
  return !!x && typeof x === 'object' && Number.isFinite((x as Stamp).epoch) && Number.isFinite((x as Stamp).seq);
}

function isLatchState(x: unknown): x is LatchState {
  if (!x || typeof x !== 'object') return false;
  const s = x as LatchState;
  return s.v === 1 && typeof s.latched === 'boolean' && typeof s.stampsSeen === 'boolean'
    && (s.newestEstop === null || isStamp(s.newestEstop)) && (s.newestSeen === null || isStamp(s.newestSeen));
}

export type ReleaseDecision = { ok: true } | { ok: false; reason: string };

export interface ReleaseMessage {
  stamp?: Stamp;
  /** True when the broker delivered it from its retained store (mqtt.js: packet.retain). */
  retained: boolean;
}

export class EstopLatch {
  private s: LatchState = { ...UNLATCHED };
  /** Why the stored state could not be trusted or kept, or null when it is fine. */
  private storeError: string | null = null;

  constructor(readonly store: LatchStore = new MemoryLatchStore(), private readonly now: () => number = Date.now) {}

  /** Reads the saved state. A file that cannot be read counts as latched: never release on doubt. */
  load(): { latched: boolean; doubt: string | null } {
    try {
      const saved = this.store.load();
      this.s = saved ? { ...UNLATCHED, ...saved } : { ...UNLATCHED };
      this.storeError = null;
      return { latched: this.s.latched, doubt: null };
    } catch (e) {
      const doubt = (e as Error).message;
      this.s = { ...UNLATCHED, latched: true, source: 'latch', reason: doubt, since: this.now() };
      this.storeError = doubt;
      return { latched: true, doubt };
    }
  }

  get latched(): boolean { return this.s.latched; }
  get state(): Readonly<LatchState> { return this.s; }
  /** Non-null while the latch could not be stored or read: the node reports a fault. */
  get fault(): string | null { return this.storeError; }

  /** Records that a stamp was seen (any e-stop or release message), to keep newestSeen current. */
  private see(stamp: Stamp | undefined): void {
    if (!stamp) return;
    this.s.newestSeen = newer(this.s.newestSeen, stamp);
    this.s.stampsSeen = true;
  }

  /**
   * Latches an e-stop. The state in memory latches whatever happens; the returned error says the
   * file could not be written (the node must report a fault and refuse to arm until it can).
   */
  estop(source: EstopSource, reason: string, stamp?: Stamp): { persisted: boolean; error: string | null } {
    const before = JSON.stringify(this.s);
    this.see(stamp);
    if (stamp) this.s.newestEstop = newer(this.s.newestEstop, stamp);
    else this.s.unstampedFloor = newer(this.s.unstampedFloor, this.s.newestSeen);
    if (!this.s.latched) {
      this.s.latched = true;
      this.s.source = source;
      this.s.reason = reason;
      this.s.since = this.now();
    }
    if (JSON.stringify(this.s) === before && !this.storeError) return { persisted: true, error: null };
    return this.persist();
  }

  /**
   * Decides a release. Accepted only if live (not retained), and newer than the newest e-stop
   * stamp seen. An unstamped release is accepted only from a hub that never stamps (no stamp has
   * ever been seen by this node); once stamps are seen, an unstamped release is refused.
   * A release that cannot be stored is refused too: the file would latch the node again on restart.
   */
  release(m: ReleaseMessage): ReleaseDecision {
    if (m.retained) {
      this.see(m.stamp);
      return { ok: false, reason: 'a retained release (replayed by the broker, perhaps stale after a broker restart) is never obeyed: release again from the console' };
    }
    if (!m.stamp && this.s.stampsSeen) return { ok: false, reason: 'an unstamped release is refused: this node has seen stamped e-stops, so only a stamped release from the hub counts' };
    if (m.stamp) {
      const floor = newer(this.s.newestEstop, this.s.unstampedFloor);
      if (floor && compareStamps(m.stamp, floor) <= 0) {
        this.see(m.stamp);
        return { ok: false, reason: `release ${fmt(m.stamp)} is not newer than the e-stop ${fmt(floor)}: stale, ignored` };
      }
    }
    const previous = { ...this.s };
    const wasLatched = this.s.latched;
    this.see(m.stamp);
    this.s.latched = false;
    this.s.source = null;
    this.s.reason = null;
    this.s.since = null;
    this.s.unstampedFloor = null;
    const r = this.persist();
    if (!r.persisted && wasLatched) {
      this.s = previous;
      return { ok: false, reason: `release refused: the e-stop latch cannot be written (${r.error}); fix the state folder, then release again` };
    }
    return { ok: true };
  }

  private persist(): { persisted: boolean; error: string | null } {
    try {
      this.store.save(this.s);
      this.storeError = null;
      return { persisted: true, error: null };
    } catch (e) {
      this.storeError = `cannot write the e-stop latch ${this.store.where}: ${(e as Error).message}`;
      return { persisted: false, error: this.storeError };
    }
  }
}

function fmt(s: Stamp): string { return `(${s.epoch}, ${s.seq})`; }
