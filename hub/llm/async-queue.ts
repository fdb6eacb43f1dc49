/** A push-to-pull bridge: callbacks push values, one consumer reads them with for-await. */
export class AsyncQueue<T> implements AsyncIterable<T> {
  private items: T[] = [];
  private done = false;
  private error: unknown;
  private failed = false;
  private wake: (() => void) | undefined;

  push(v: T): void { this.items.push(v); this.signal(); }
  end(): void { this.done = true; this.signal(); }
  fail(e: unknown): void { this.failed = true; this.error = e; this.signal(); }

  private signal(): void { const w = this.wake; this.wake = undefined; w?.(); }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length) { yield this.items.shift()!; continue; }
      if (this.failed) throw this.error;
      if (this.done) return;
      await new Promise<void>((r) => { this.wake = r; });
    }
  }
}
