/**
 * The show journal: every performed line, cue outcome and event, appended as JSON Lines and
 * written synchronously, so a crash loses nothing already performed.
 */
import { appendFileSync, mkdirSync, readFileSync, openSync, closeSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TranscriptLineT, EstopStampT } from '../protocol/index.ts';

/** Where playback stood: written on every change, so a restarted hub knows where it was. */
export interface PlaybackPosition { scene: string | null; playhead: number; standby: string | null; status: string; running: string[] }

export type JournalRecord =
  /** `late`: the line reached the hub long after it was performed (queued while the hub was down); its times are the node's originals. */
  | { type: 'line'; at: string; line: TranscriptLineT; late?: { delayMs: number } }
  | { type: 'estop'; at: string; active: boolean; stamp: EstopStampT; source: string; reason?: string }
  | { type: 'playback'; at: string; position: PlaybackPosition }
  | { type: 'restored'; at: string; from: string; estop: boolean; position: PlaybackPosition | null; interrupted: string[]; lines: number }
  | { type: 'cue'; at: string; scene: string; cue: string; node?: string; status: string; reason?: string; latencyMs?: number }
  | { type: 'event'; at: string; source: string; kind: string; data: Record<string, unknown> }
  | { type: 'show'; at: string; action: string; detail?: string }
  /** Who did what: console commands, page actions, curator decisions (hub.audit). */
  | { type: 'audit'; at: string; action: string; by: string; role: string; ok: boolean; detail?: string; args?: Record<string, unknown> };

type Without<T> = T extends unknown ? Omit<T, 'at'> : never;

/** Free text an operator types (council questions, reasons): personal data, not kept unless the show says so. */
export const OPERATOR_TEXT_FIELDS = ['question', 'reason', 'persona'] as const;
export const REDACTED = '[redacted]';

function redact(data: Record<string, unknown>, fields: readonly string[] = OPERATOR_TEXT_FIELDS): Record<string, unknown> {
  const out: Record<string, unknown> = { ...data };
  for (const k of fields) if (typeof out[k] === 'string') out[k] = REDACTED;
  return out;
}

/** In the ensemble's own events, `reason` is the director's (why this speaker), not an operator's words. */
const ENSEMBLE_OPERATOR_FIELDS = OPERATOR_TEXT_FIELDS.filter((k) => k !== 'reason');

export class Journal {
  /** keepOperatorText: keep the operator's free text (show file privacy.keepOperatorText); redacted by default. */
  constructor(readonly file: string, private readonly o: { keepOperatorText?: boolean } = {}) {
    mkdirSync(dirname(file), { recursive: true });
    // Open once to fail early (permissions, disk) rather than in mid-show.
    closeSync(openSync(file, 'a'));
  }

  append(record: Without<JournalRecord>): void {
    if (!this.o.keepOperatorText) {
      if (record.type === 'audit' && record.args) record = { ...record, args: redact(record.args) };
      else if (record.type === 'event' && record.source === 'ensemble') record = { ...record, data: redact(record.data, ENSEMBLE_OPERATOR_FIELDS) };
    }
    appendFileSync(this.file, JSON.stringify({ at: new Date().toISOString(), ...record }) + '\n');
  }
}

/** Reads a journal back; a torn last line (a crash mid-write) is skipped, not fatal. */
export function readJournal(file: string): JournalRecord[] {
  const out: JournalRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JournalRecord);
    } catch {
      // skip a partial line
    }
  }
  return out;
}

/** The newest journal of a show in a directory (by modification time, then name); null if none. */
export function lastJournal(dir: string, show: string, except?: string): string | null {
  let names: string[];
  try { names = readdirSync(dir); } catch { return null; }
  const files = names.filter((n) => n.startsWith(`${show}-`) && n.endsWith('.jsonl')).map((n) => join(dir, n)).filter((f) => f !== except);
  if (!files.length) return null;
  return files.map((f) => ({ f, t: statSync(f).mtimeMs })).sort((a, b) => a.t - b.t || a.f.localeCompare(b.f)).at(-1)!.f;
}

export function transcriptOf(records: JournalRecord[]): TranscriptLineT[] {
  return records.flatMap((r) => (r.type === 'line' ? [r.line] : []));
}
