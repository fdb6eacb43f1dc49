/**
 * A performed line is the node's until the hub says it is journaled. The broker's ack is not
 * enough: the embedded broker lives in the hub process, so a hub killed after the broker acked a
 * line but before the hub wrote it down would lose that line (seen in the crash drills). The node
 * numbers each line, keeps it here, drops it on the hub's receipt (node/{node}/journaled) and sends
 * what is left again when a hub comes (back) online, or when a receipt is long overdue. The hub
 * journals each line once (it knows the lines of its last journal), so a resend never doubles one.
 */
import type { TranscriptLineT } from '../protocol/index.ts';

export interface UnjournaledOptions {
  /** Most lines kept (default 1000); beyond it the oldest is dropped and counted. */
  limit?: number;
  now?: () => number;
}

interface Kept { line: TranscriptLineT; sentAt: number }

export class UnjournaledLines {
  private readonly kept = new Map<number, Kept>();
  private nextSeq = 0;
  private readonly limit: number;
  private readonly now: () => number;
  /** Lines dropped unconfirmed because too many waited, since the node started. */
  dropped = 0;

  constructor(o: UnjournaledOptions = {}) {
    this.limit = Math.max(1, o.limit ?? 1000);
    this.now = o.now ?? Date.now;
  }

  get size(): number { return this.kept.size; }

  /** Numbers a performed line and keeps it; returns the line to send (with its seq). */
  keep(line: Omit<TranscriptLineT, 'seq'>): TranscriptLineT {
    const numbered: TranscriptLineT = { ...line, seq: this.nextSeq++ };
    this.kept.set(numbered.seq!, { line: numbered, sentAt: this.now() });
    if (this.kept.size > this.limit) {
      this.kept.delete(this.kept.keys().next().value!);
      this.dropped++;
    }
    return numbered;
  }

  /** The hub's receipt. Both seq and the line's ts must match: a receipt meant for an earlier run of this node is ignored. */
  journaled(seq: number, lineTs: number): boolean {
    const k = this.kept.get(seq);
    if (!k || k.line.ts !== lineTs) return false;
    this.kept.delete(seq);
    return true;
  }

  /**
   * Lines to send again, oldest first: those sent at least `olderThanMs` ago. Marks them sent now,
   * so a slow hub is not flooded with the same lines.
   */
  resend(olderThanMs: number): TranscriptLineT[] {
    const now = this.now();
    const out: TranscriptLineT[] = [];
    for (const k of this.kept.values()) {
      if (now - k.sentAt < olderThanMs) continue;
      k.sentAt = now;
      out.push(k.line);
    }
    return out;
  }
}
