/**
 * Streaming stop-string detection. Text that might be the start of a stop string is held back
 * until it is known not to be, so a caller never sees part of a stop string.
 */
export class StopStringMatcher {
  private pending = '';
  constructor(private readonly stops: readonly string[]) {}

  /** Feed new text; returns what is safe to emit and whether a stop string was reached. */
  push(text: string): { emit: string; stopped: boolean } {
    this.pending += text;
    let cut = -1;
    for (const s of this.stops) {
      if (!s) continue;
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      const emit = this.pending.slice(0, cut);
      this.pending = '';
      return { emit, stopped: true };
    }
    const hold = this.longestStopPrefixAtEnd();
    const emit = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { emit, stopped: false };
  }

  /** Text held back when generation ends for another reason. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }

  private longestStopPrefixAtEnd(): number {
    let longest = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.pending.length); n > longest; n--) {
        if (this.pending.endsWith(s.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}
