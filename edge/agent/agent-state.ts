/**
 * What a node agent remembers across restarts, in one JSON file written atomically (tmp + fsync
 * + rename): who adopted it and as what, which release is committed, and an update in progress.
 * An update still marked `pending` when the agent starts was never committed: the agent rolls it
 * back by itself (Mender's rule: no commit, no keep).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash, timingSafeEqual } from 'node:crypto';

export interface Adoption {
  nodeId: string;
  show: string;
  character?: string;
  broker: string;
  /** sha256 of the fleet's bearer token (the token itself is never stored here). */
  tokenSha256: string;
  adoptedAt: number;
}

export interface AgentStateFile {
  v: 1;
  adoption: Adoption | null;
  /** The release that reached ready and heartbeats after its switch. */
  committed: string | null;
  /** The release a rollback goes back to. */
  previous: string | null;
  /** An update between switch and commit. */
  pending: { from: string | null; to: string; startedAt: number } | null;
  firmware: string | null;
  lastResult: string | null;
}

const EMPTY: AgentStateFile = { v: 1, adoption: null, committed: null, previous: null, pending: null, firmware: null, lastResult: null };

export function writeFileAtomic(file: string, data: string | Buffer, mode = 0o600): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally { closeSync(fd); }
  renameSync(tmp, file);
  const dfd = openSync(dirname(file), 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** Constant-time comparison of a presented token with the stored hash. */
export function tokenMatches(presented: string, storedSha256: string): boolean {
  const a = Buffer.from(sha256Hex(presented), 'hex');
  const b = Buffer.from(storedSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export class AgentStateStore {
  readonly file: string;
  private state: AgentStateFile;

  constructor(readonly agentDir: string) {
    this.file = join(agentDir, 'state.json');
    this.state = existsSync(this.file) ? this.read() : { ...EMPTY };
  }

  private read(): AgentStateFile {
    try {
      const s = JSON.parse(readFileSync(this.file, 'utf8')) as AgentStateFile;
      if (s.v !== 1) throw new Error(`unknown version ${String(s.v)}`);
      return { ...EMPTY, ...s };
    } catch (e) {
      throw new Error(`${this.file} cannot be read (${(e as Error).message}); move it away to start the agent as a new, unadopted node`);
    }
  }

  get(): Readonly<AgentStateFile> { return this.state; }

  update(change: Partial<AgentStateFile>): void {
    this.state = { ...this.state, ...change };
    writeFileAtomic(this.file, JSON.stringify(this.state, null, 2) + '\n');
  }
}
