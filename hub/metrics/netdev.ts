/**
 * Network bytes per interface from /proc/net/dev (Linux). The MQTT traffic of local nodes goes over
 * lo, so lo is kept.
 */
import { readFileSync } from 'node:fs';

export interface NetCounters { rxBytes: number; txBytes: number }

export function parseNetDev(text: string): Map<string, NetCounters> {
  const out = new Map<string, NetCounters>();
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.trim().split(/\s+/).map(Number);
    // Receive: bytes packets errs drop fifo frame compressed multicast; then transmit: bytes ...
    if (f.length >= 9 && Number.isFinite(f[0]) && Number.isFinite(f[8])) out.set(m[1]!, { rxBytes: f[0]!, txBytes: f[8]! });
  }
  return out;
}

/** Null where /proc/net/dev does not exist (not Linux). */
export function readNetDev(file = '/proc/net/dev'): Map<string, NetCounters> | null {
  try {
    return parseNetDev(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}
