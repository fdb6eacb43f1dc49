/**
 * Curator mode: a generated line waits for the operator before it is performed. The ensemble code
 * calls `submit(line)`; the page previews it with a countdown and the operator approves, vetoes or
 * asks for another. At zero the line is approved, because a silent stage is worse than an
 * unchecked line. With curator mode off, every line is approved at once.
 */
import { EventEmitter } from 'node:events';

export type CurateDecision = 'approved' | 'vetoed' | 'regenerate';

export interface CurateLine {
  character: string;
  text: string;
  emotion?: string;
  /** How long the operator has; the curator's default otherwise. */
  deadlineMs?: number;
}

/** What the hub emits as 'curate' and the page previews. */
export interface CurateRequest {
  id: string;
  character: string;
  text: string;
  emotion?: string;
  deadlineMs: number;
  /** Date.now() at which it is auto-approved. */
  expiresAt: number;
}

export interface CurateSettled {
  id: string;
  decision: CurateDecision;
  by: 'operator' | 'timeout' | 'shutdown';
}

interface Pending {
  req: CurateRequest;
  resolve: (d: CurateDecision) => void;
  timer: NodeJS.Timeout;
}

export class Curator extends EventEmitter {
  enabled = false;
  private seq = 0;
  private readonly pendingById = new Map<string, Pending>();

  constructor(readonly defaultDeadlineMs = 8000) {
    super();
  }

  /** Resolves with the operator's decision, or 'approved' when the countdown ends. */
  submit(line: CurateLine): Promise<CurateDecision> {
    if (!this.enabled) return Promise.resolve('approved');
    const deadlineMs = Math.max(0, line.deadlineMs ?? this.defaultDeadlineMs);
    const req: CurateRequest = {
      id: `c${++this.seq}`,
      character: line.character,
      text: line.text,
      ...(line.emotion ? { emotion: line.emotion } : {}),
      deadlineMs,
      expiresAt: Date.now() + deadlineMs,
    };
    return new Promise<CurateDecision>((resolve) => {
      const timer = setTimeout(() => this.settle(req.id, 'approved', 'timeout'), deadlineMs);
      this.pendingById.set(req.id, { req, resolve, timer });
      this.emit('curate', req);
    });
  }

  /** The operator's decision; false when the line is no longer pending (already settled). */
  decide(id: string, decision: CurateDecision): boolean {
    return this.settle(id, decision, 'operator');
  }

  pending(): CurateRequest[] {
    return [...this.pendingById.values()].map((p) => p.req);
  }

  /** Turning curator mode off lets waiting lines through rather than leaving them stuck. */
  setEnabled(on: boolean): void {
    this.enabled = on;
    if (!on) for (const id of [...this.pendingById.keys()]) this.settle(id, 'approved', 'operator');
  }

  close(): void {
    for (const id of [...this.pendingById.keys()]) this.settle(id, 'approved', 'shutdown');
  }

  private settle(id: string, decision: CurateDecision, by: CurateSettled['by']): boolean {
    const p = this.pendingById.get(id);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pendingById.delete(id);
    p.resolve(decision);
    this.emit('settled', { id, decision, by } satisfies CurateSettled);
    return true;
  }
}
