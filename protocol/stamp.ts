/**
 * E-stop ordering: every e-stop and release the hub issues carries a stamp (epoch, seq). The epoch
 * grows on every hub start (persisted), seq with every e-stop/release of that run. Hub and nodes
 * compare stamps the same way, with this function.
 */
import type { EstopStampT } from './schemas.ts';

/** < 0 when a is older than b, 0 when equal, > 0 when a is newer. A missing stamp is the oldest. */
export function compareStamps(a: EstopStampT | undefined | null, b: EstopStampT | undefined | null): number {
  if (!a && !b) return 0;
  if (!a) return -1;
  if (!b) return 1;
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.seq - b.seq;
}

export function formatStamp(s: EstopStampT | undefined | null): string {
  return s ? `${s.epoch}.${s.seq}` : 'unstamped';
}
