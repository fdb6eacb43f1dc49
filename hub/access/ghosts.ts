/**
 * Node ids that are not in the show ("ghosts"): refused before they reach the registry, the
 * metrics or the journal, so 2,000 invented ids cost a counter, not 2,000 registry entries,
 * metric series and journal lines. Each id is counted once (up to a bound), and logged rarely.
 */
import { TokenBucket } from '../../protocol/rate-limit.ts';

export class GhostNodes {
  private readonly cast: Set<string>;
  private readonly seen = new Set<string>();
  private readonly logBucket = new TokenBucket(0.2, 3);
  /** Distinct ghost ids seen (counted once each, up to `maxTracked`; beyond it, counted as more). */
  distinct = 0;
  /** Messages refused. */
  messages = 0;

  constructor(cast: Iterable<string>, private readonly report: (line: string) => void, private readonly maxTracked = 10_000) {
    this.cast = new Set(cast);
  }

  /** True when the id belongs to the show; otherwise counts it and says so (rarely). */
  admit(node: string): boolean {
    if (this.cast.has(node)) return true;
    this.messages++;
    if (!this.seen.has(node)) {
      this.distinct++;
      if (this.seen.size < this.maxTracked) this.seen.add(node);
      const dropped = this.logBucket.takeReporting();
      if (dropped !== null) this.report(`messages from node "${node.slice(0, 64)}", which is not in the show, refused (${this.distinct} unknown node ids so far)`);
    }
    return false;
  }
}
