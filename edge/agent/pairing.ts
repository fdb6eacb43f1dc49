/**
 * The pairing code: proof that whoever adopts a node can touch it (its console, its disk), as
 * HomeKit's setup code and ESPHome's API key are. The agent makes a short one-time code when it
 * first runs unadopted, prints it on its console (the journal on a Pi) and keeps it in
 * `agent/pairing-code`, readable only by the agent's user. It is never in the mDNS record nor in
 * any answer of the API. An adoption without the right code is refused; wrong codes are counted
 * and, after a few, every adoption is refused for a while (the lock-out doubles each time, up to
 * an hour), so the code cannot be guessed over the network. The lock-out survives an agent restart;
 * `kuroko node pairing-code --new` on the node (physical access) clears it with a fresh code.
 * A successful adoption uses the code up: from then on the fleet's token is the key.
 * The fleet does not send the code: it seals its request with it (protocol/pairing-seal.ts), and a
 * request that does not open is a wrong code. A bare code (`pairingCode`) is accepted too (curl).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { writeFileAtomic } from './agent-state.ts';
import { normalizeCode, openWithCode, type SealedT } from '../../protocol/pairing-seal.ts';

/** No 0/O, 1/I/L: a code read off a screen is typed back without guessing. 31^8 ≈ 2^39.6. */
const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_CHARS = 8;
export const PAIRING_MAX_TRIES = 5;
export const PAIRING_LOCK_MS = 5 * 60_000;
const MAX_LOCK_MS = 60 * 60_000;

export type PairingVerdict =
  | { ok: true }
  | { ok: false; status: 401 | 429; error: string; next: string; retryAfterS?: number };

interface LockFile { failures: number; lockouts: number; lockedUntil: number }

export { normalizeCode };

export function newPairingCode(): string {
  let s = '';
  for (let i = 0; i < CODE_CHARS; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

function sameCode(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(normalizeCode(s)).digest();
  return timingSafeEqual(h(a), h(b));
}

export interface PairingOptions {
  maxTries?: number;
  /** The first lock-out; each further one doubles, up to an hour. */
  lockMs?: number;
  now?: () => number;
}

export class Pairing {
  readonly codeFile: string;
  private readonly lockFile: string;
  private readonly maxTries: number;
  private readonly lockMs: number;
  private readonly now: () => number;
  private lock: LockFile = { failures: 0, lockouts: 0, lockedUntil: 0 };

  constructor(agentDir: string, o: PairingOptions = {}) {
    this.codeFile = join(agentDir, 'pairing-code');
    this.lockFile = join(agentDir, 'pairing-lock.json');
    this.maxTries = o.maxTries ?? PAIRING_MAX_TRIES;
    this.lockMs = o.lockMs ?? PAIRING_LOCK_MS;
    this.now = o.now ?? Date.now;
  }

  private readLock(): LockFile {
    const none = { failures: 0, lockouts: 0, lockedUntil: 0 };
    if (!existsSync(this.lockFile)) return none;
    try {
      const l = JSON.parse(readFileSync(this.lockFile, 'utf8')) as LockFile;
      return [l.failures, l.lockouts, l.lockedUntil].every((n) => Number.isFinite(n)) ? l : none;
    } catch {
      // A damaged lock file must not open the door: treat it as one full lock-out.
      return { failures: 0, lockouts: 1, lockedUntil: this.now() + this.lockMs };
    }
  }

  private saveLock(): void { writeFileAtomic(this.lockFile, JSON.stringify(this.lock) + '\n', 0o600); }

  /** The code, made now if there is none (mode 0600: the agent's user and root only). */
  ensureCode(): string {
    const c = this.code();
    if (c) return c;
    const code = newPairingCode();
    writeFileAtomic(this.codeFile, `${code}\n`, 0o600);
    return code;
  }

  code(): string | null {
    if (!existsSync(this.codeFile)) return null;
    const c = readFileSync(this.codeFile, 'utf8').trim();
    return c || null;
  }

  /** A fresh code, and no lock-out (run on the node: whoever can do that owns it). */
  renew(): string {
    rmSync(this.codeFile, { force: true });
    this.lock = { failures: 0, lockouts: 0, lockedUntil: 0 };
    this.saveLock();
    return this.ensureCode();
  }

  /** Seconds of lock-out left (0: not locked). */
  lockedForS(): number {
    // Read again each time: `kuroko node pairing-code --new` may have cleared it while the agent runs.
    this.lock = this.readLock();
    return Math.max(0, Math.ceil((this.lock.lockedUntil - this.now()) / 1000));
  }

  private get where(): string {
    return `${this.codeFile} on the node, or the agent's log at its start (journalctl -u kuroko-agent | grep 'pairing code')`;
  }

  /** Locked out, or no code: refused before any code is looked at. */
  private gate(): { ok: false; verdict: PairingVerdict } | { ok: true; code: string } {
    const locked = this.lockedForS();
    if (locked > 0) {
      return { ok: false, verdict: { ok: false, status: 429, retryAfterS: locked, error: `adoption locked for ${locked} s after ${this.maxTries} wrong pairing codes`, next: `wait ${locked} s and give the right code (${this.where}); or on the node: kuroko node pairing-code --new` } };
    }
    const code = this.code();
    if (!code) return { ok: false, verdict: { ok: false, status: 401, error: 'this node has no pairing code yet (its agent makes one when it starts unadopted)', next: 'restart the agent on the node (systemctl restart kuroko-agent), then read the code it prints' } };
    return { ok: true, code };
  }

  /** Counts a wrong code; the last allowed one starts a lock-out. */
  private wrong(): PairingVerdict {
    this.lock.failures++;
    const left = this.maxTries - this.lock.failures;
    if (left <= 0) {
      const ms = Math.min(MAX_LOCK_MS, this.lockMs * 2 ** this.lock.lockouts);
      this.lock = { failures: 0, lockouts: this.lock.lockouts + 1, lockedUntil: this.now() + ms };
      this.saveLock();
      const s = Math.ceil(ms / 1000);
      return { ok: false, status: 429, retryAfterS: s, error: `wrong pairing code; adoption is now locked for ${s} s (${this.maxTries} wrong codes)`, next: `check the code (${this.where}); wait ${s} s, or on the node: kuroko node pairing-code --new` };
    }
    this.saveLock();
    return { ok: false, status: 401, error: `wrong pairing code (${left} ${left === 1 ? 'try' : 'tries'} left before adoption locks)`, next: `read the code on the robot (${this.where})` };
  }

  /** Checks a bare code; a wrong one is counted (a missing one is not: it is a question, not a guess). */
  check(presented: string | undefined): PairingVerdict {
    const g = this.gate();
    if (!g.ok) return g.verdict;
    if (presented === undefined || presented.trim() === '') {
      return { ok: false, status: 401, error: 'this node needs its pairing code to be adopted', next: `read it on the robot (${this.where}) and give it: kuroko fleet adopt … --code CODE, or code: in the plan` };
    }
    return sameCode(presented, g.code) ? { ok: true } : this.wrong();
  }

  private opening = false;

  /** Opens a request sealed with the code; one that does not open is a wrong code. One at a time (each costs a scrypt). */
  async open(sealed: SealedT, context: string): Promise<{ ok: true; plaintext: string } | Exclude<PairingVerdict, { ok: true }>> {
    const g = this.gate();
    if (!g.ok) return g.verdict as Exclude<PairingVerdict, { ok: true }>;
    if (this.opening) return { ok: false, status: 429, retryAfterS: 1, error: 'another adoption request is being checked', next: 'try again in a second' };
    this.opening = true;
    try {
      const plaintext = await openWithCode(g.code, sealed, context);
      return plaintext === null ? this.wrong() as Exclude<PairingVerdict, { ok: true }> : { ok: true, plaintext };
    } finally {
      this.opening = false;
    }
  }

  /** The adoption succeeded: the code is used up, the counters start again. */
  consume(): void {
    rmSync(this.codeFile, { force: true });
    rmSync(this.lockFile, { force: true });
    this.lock = { failures: 0, lockouts: 0, lockedUntil: 0 };
  }
}
