/**
 * What the hub knows of each node, from births, states, Wills and heartbeats. A node whose
 * heartbeats stop for `silentMs` is marked lost even before the broker fires its Will.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { NodeBirthT, NodeStateNameT } from '../protocol/index.ts';

export interface NodeInfo {
  id: string;
  state: NodeStateNameT | 'unknown';
  reason?: string;
  birth?: NodeBirthT;
  bdSeq?: number;
  lastHeartbeat?: number;
  clockOffsetMs?: number;
  rssBytes?: number;
}

export class NodeRegistry extends EventEmitter {
  private readonly nodes = new Map<string, NodeInfo>();
  private sweeper: NodeJS.Timeout;

  constructor(expected: string[], private readonly silentMs = 3000) {
    super();
    for (const id of expected) this.nodes.set(id, { id, state: 'unknown' });
    this.sweeper = setInterval(() => this.sweep(), 500);
    this.sweeper.unref();
  }

  get(id: string): NodeInfo | undefined {
    return this.nodes.get(id);
  }

  all(): NodeInfo[] {
    return [...this.nodes.values()];
  }

  /** Online means it can take cues: any live state but lost. */
  isOnline(id: string): boolean {
    const n = this.nodes.get(id);
    return !!n && n.state !== 'lost' && n.state !== 'unknown';
  }

  private ensure(id: string): NodeInfo {
    let n = this.nodes.get(id);
    if (!n) { n = { id, state: 'unknown' }; this.nodes.set(id, n); }
    return n;
  }

  birth(id: string, b: NodeBirthT): void {
    const n = this.ensure(id);
    n.birth = b;
    n.bdSeq = b.bdSeq;
    n.lastHeartbeat = Date.now();
    this.emit('birth', n);
  }

  state(id: string, state: NodeStateNameT, reason: string | undefined, bdSeq: number): void {
    const n = this.ensure(id);
    // A Will from an older session (stale bdSeq) must not mark a reborn node lost (Sparkplug's rule).
    if (state === 'lost' && n.bdSeq !== undefined && bdSeq !== n.bdSeq && n.state !== 'unknown') return;
    this.set(n, state, reason);
    if (state !== 'lost') n.lastHeartbeat = Date.now();
  }

  heartbeat(id: string, hb: { state: NodeStateNameT; clockOffsetMs: number; rssBytes: number }): void {
    const n = this.ensure(id);
    n.lastHeartbeat = Date.now();
    n.clockOffsetMs = hb.clockOffsetMs;
    n.rssBytes = hb.rssBytes;
    if (n.state === 'lost' || n.state === 'unknown') this.set(n, hb.state, 'heartbeat resumed');
  }

  private set(n: NodeInfo, state: NodeInfo['state'], reason?: string): void {
    const prev = n.state;
    n.state = state;
    n.reason = reason;
    if (prev !== state) this.emit('state', n, prev);
  }

  /**
   * The hub itself was stalled (or its clock jumped): silence during that time is the hub's, not
   * the nodes'. Their heartbeat clocks restart now.
   */
  forgive(): void {
    const now = Date.now();
    for (const n of this.nodes.values()) if (n.lastHeartbeat) n.lastHeartbeat = now;
    this.lastSweep = performance.now();
  }

  private lastSweep = performance.now();

  private sweep(): void {
    // The sweeper runs every 500 ms: if it ran much later, the hub was frozen, and the silence is its own.
    const mono = performance.now();
    const gap = mono - this.lastSweep;
    this.lastSweep = mono;
    if (gap > this.silentMs / 2) return this.forgive();
    const now = Date.now();
    for (const n of this.nodes.values()) {
      if (n.state !== 'lost' && n.state !== 'unknown' && n.lastHeartbeat && now - n.lastHeartbeat > this.silentMs) {
        this.set(n, 'lost', `no heartbeat for ${Math.round((now - n.lastHeartbeat) / 1000)} s`);
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
