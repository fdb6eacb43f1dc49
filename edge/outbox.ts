/**
 * Nothing performed is lost: what a node performed (transcript lines, cue acks) while it could not
 * reach the broker waits here, bounded, and goes out in order when the connection returns. Each
 * item keeps the show-clock times it was made with; `delayedMs` says how long it waited. When the
 * queue is full the oldest item is dropped and counted (the count rides in the node heartbeat).
 */
export interface OutboxOptions<T> {
  /** Most items kept while disconnected (default 1000). */
  limit?: number;
  connected(): boolean;
  send(item: T, delayedMs: number): void;
  now?: () => number;
}

export class Outbox<T> {
  private readonly queue: { item: T; at: number }[] = [];
  private readonly limit: number;
  private readonly now: () => number;
  /** Items dropped because the queue was full, since the node started. */
  dropped = 0;

  constructor(private readonly o: OutboxOptions<T>) {
    this.limit = Math.max(1, o.limit ?? 1000);
    this.now = o.now ?? Date.now;
  }

  get size(): number { return this.queue.length; }

  /** Sends now if connected (and nothing older waits), else keeps it for later. */
  offer(item: T): void {
    if (this.o.connected() && this.queue.length === 0) return this.o.send(item, 0);
    this.queue.push({ item, at: this.now() });
    if (this.queue.length > this.limit) {
      this.queue.shift();
      this.dropped++;
    }
  }

  /** Sends everything that waited, oldest first (call on every connect). */
  flush(): number {
    let sent = 0;
    while (this.queue.length && this.o.connected()) {
      const { item, at } = this.queue.shift()!;
      this.o.send(item, this.now() - at);
      sent++;
    }
    return sent;
  }
}
