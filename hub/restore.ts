/**
 * What a restarted hub takes back from the show's last journal: the e-stop (with its stamp), where
 * playback stood (scene, playhead, status), the cues that were in flight (now interrupted) and the
 * lines already performed. The hub comes back paused with this; it never continues by itself.
 */
import { readJournal, type JournalRecord, type PlaybackPosition } from './journal.ts';
import type { EstopRecord } from './estop-ledger.ts';
import type { TranscriptLineT } from '../protocol/index.ts';

export interface RestoredState {
  from: string;
  estop: EstopRecord | null;
  position: PlaybackPosition | null;
  /** Show cue ids running when the last hub stopped: they were cut off. */
  interrupted: string[];
  /** Lines of the restored scene already performed (in the order they were journaled). */
  lines: TranscriptLineT[];
  /** Every line the last journal holds, as lineKey()s: a node resending one is not journaled twice. */
  journaledKeys: string[];
  /** The last hub stopped cleanly (hub-stop journaled): nothing was interrupted by a crash. */
  clean: boolean;
}

/** One performed line of one node, as the hub recognises it again when a node resends it. */
export function lineKey(l: Pick<TranscriptLineT, 'node' | 'ts' | 'text'>): string {
  return `${l.node}|${l.ts}|${l.text}`;
}

export function restoreFrom(file: string): RestoredState {
  return restoreFromRecords(file, readJournal(file));
}

export function restoreFromRecords(from: string, records: readonly JournalRecord[]): RestoredState {
  let estop: EstopRecord | null = null;
  let position: PlaybackPosition | null = null;
  let clean = false;
  const lines: TranscriptLineT[] = [];
  for (const r of records) {
    switch (r.type) {
      case 'estop': estop = { active: r.active, stamp: r.stamp, source: r.source, ...(r.reason ? { reason: r.reason } : {}) }; break;
      case 'playback': position = r.position; break;
      case 'restored': {
        // A journal that began by restoring carries on from what it restored.
        position = r.position;
        break;
      }
      case 'line': lines.push(r.line); break;
      case 'show': if (r.action === 'hub-stop') clean = true; else if (r.action === 'hub-start') clean = false; break;
    }
  }
  const scene = position?.scene ?? null;
  return {
    from,
    estop,
    position,
    interrupted: position?.running ?? [],
    lines: scene ? lines.filter((l) => l.scene === scene) : [],
    journaledKeys: lines.map(lineKey),
    clean,
  };
}
