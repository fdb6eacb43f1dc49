/**
 * The cue-latency probe both cue benchmarks use (plain in cue-latency.bench.ts, plain vs secured in
 * security.bench.ts): a `wait` cue to each node in turn, timed from the hub's publish to the node's
 * `accepted` ack, after `warmup` unmeasured cues.
 */
import { performance } from 'node:perf_hooks';
import type { Hub } from '../../hub/hub.ts';
import { newCueId } from '../../hub/playback.ts';
import type { CueAckT } from '../../protocol/index.ts';

/** A benchmark step that hangs fails loudly instead of stalling the run. */
export function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`benchmark stuck: ${what} took over ${ms} ms`)), ms); })]).finally(() => clearTimeout(t));
}

export async function cueLatency(hub: Hub, nodes: string[], count: number, warmup = 20): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count + warmup; i++) {
    const node = nodes[i % nodes.length]!;
    const id = newCueId();
    const at = hub.showNow() + 100;
    const t0 = performance.now();
    await within(`an ack from ${node}`, 5000, new Promise<void>((resolve) => {
      const onAck = (n: string, a: CueAckT) => { if (n === node && a.cue === id && a.status === 'accepted') { hub.off('cue-ack', onAck); resolve(); } };
      hub.on('cue-ack', onAck);
      hub.publish('nodeCue', { node }, { v: 1, id, scene: 's', seq: i, at, deadline: at + 500, ts: Date.now(), kind: 'wait', params: { durationMs: 0 } });
    }));
    if (i >= warmup) out.push(performance.now() - t0);
  }
  return out;
}
