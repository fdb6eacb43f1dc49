/**
 * Scripted scenes from performances and subtitles:
 * - an .srt whose lines read "Speaker: text" → a scene of line cues timed as the subtitles are
 *   (speakers matched to the cast by name or id);
 * - an improvised run (its record, or the journal of a show) → a fixed cue list that replays it
 *   line for line, with the same emotions and gestures and the pauses it had.
 * sceneYaml() writes a scene as YAML to paste under a show's `scenes:`.
 */
import { stringify } from 'yaml';
import type { SceneT, ShowCueT } from '../show/schema.ts';
import type { SrtLine } from '../srt.ts';
import type { JournalRecord } from '../journal.ts';
import type { TranscriptLineT } from '../../protocol/index.ts';
import type { ImprovRecord, TurnRecord } from './improv.ts';
import { inferEmotion } from './emotion.ts';

export interface CastRef { id: string; name: string }

const sec = (ms: number) => Math.round(Math.max(0, ms)) / 1000;

/** Finds the cast member an SRT speaker names (name, first name or id, case-insensitive). */
export function matchSpeaker(cast: readonly CastRef[], speaker: string): CastRef | null {
  const k = speaker.trim().toLowerCase();
  return cast.find((c) => c.id === k) ?? cast.find((c) => c.name.toLowerCase() === k) ?? cast.find((c) => c.name.toLowerCase().split(/\s+/)[0] === k) ?? null;
}

export interface SrtImportOptions {
  sceneId: string;
  title?: string;
  /**
   * 'exact' (default): each line starts when its subtitle starts (auto-continue, post-wait = the
   * time to the next subtitle's start); 'follow': each line waits for the one before to finish,
   * then the gap the subtitles had (auto-follow), so a slower voice never overlaps.
   */
  timing?: 'exact' | 'follow';
  /** Keep the silence before the first subtitle as a pre-wait (default true: a line at 1.0 s starts at 1.0 s). */
  keepLeadIn?: boolean;
  /** Label each line's emotion from its words (default true). */
  inferEmotions?: boolean;
}

export function srtToScene(lines: readonly SrtLine[], cast: readonly CastRef[], o: SrtImportOptions): SceneT {
  if (!lines.length) throw new Error('the subtitles have no lines');
  const unknown = [...new Set(lines.filter((l) => !matchSpeaker(cast, l.speaker)).map((l) => l.speaker))];
  if (unknown.length) throw new Error(`speaker(s) not in the cast: ${unknown.join(', ')} (cast: ${cast.map((c) => `${c.name} [${c.id}]`).join(', ')})`);
  const timing = o.timing ?? 'exact';
  const sorted = [...lines].sort((a, b) => a.startMs - b.startMs);
  const cues: ShowCueT[] = sorted.map((l, i) => {
    const who = matchSpeaker(cast, l.speaker)!;
    const next = sorted[i + 1];
    const e = (o.inferEmotions ?? true) ? inferEmotion(l.text) : null;
    const cue: ShowCueT = { id: `s${i + 1}`, kind: 'line', character: who.id, text: l.text, ...(e ? { emotion: e.emotion } : {}) };
    if (i === 0 && (o.keepLeadIn ?? true) && l.startMs > 0) cue.preWait = sec(l.startMs);
    if (next) {
      if (timing === 'exact') { cue.continue = 'auto-continue'; cue.postWait = sec(next.startMs - l.startMs); }
      else { cue.continue = 'auto-follow'; cue.postWait = sec(next.startMs - l.endMs); }
    }
    return cue;
  });
  return { id: o.sceneId, ...(o.title ? { title: o.title } : {}), cues };
}

/** An improvised run as a fixed cue list: same speakers, lines, emotions, gestures, pauses. */
export function recordToScene(rec: Pick<ImprovRecord, 'turns'>, o: { sceneId: string; title?: string; maxPauseMs?: number }): SceneT {
  return turnsToScene(rec.turns, o);
}

export function turnsToScene(turns: readonly Pick<TurnRecord, 'speaker' | 'line' | 'emotion' | 'intensity' | 'gesture' | 'startedAt' | 'endedAt'>[], o: { sceneId: string; title?: string; maxPauseMs?: number }): SceneT {
  if (!turns.length) throw new Error('the run has no turns to replay');
  const cues: ShowCueT[] = [];
  turns.forEach((t, i) => {
    const next = turns[i + 1];
    if (t.gesture) cues.push({ id: `g${i + 1}`, kind: 'gesture', character: t.speaker, gesture: t.gesture, continue: 'auto-continue' });
    const pause = next ? Math.min(o.maxPauseMs ?? 5000, Math.max(0, next.startedAt - t.endedAt)) : 0;
    cues.push({
      id: `t${i + 1}`, kind: 'line', character: t.speaker, text: t.line, emotion: t.emotion, intensity: t.intensity,
      ...(next ? { continue: 'auto-follow' as const, postWait: sec(pause) } : {}),
    });
  });
  return { id: o.sceneId, ...(o.title ? { title: o.title } : {}), cues };
}

/** The lines of a performance (transcript) as a fixed cue list. */
export function transcriptToScene(lines: readonly TranscriptLineT[], o: { sceneId: string; title?: string; maxPauseMs?: number }): SceneT {
  const sorted = [...lines].sort((a, b) => a.startShowTime - b.startShowTime);
  return turnsToScene(sorted.map((l) => ({
    speaker: l.character, line: l.text, emotion: l.emotion ?? inferEmotion(l.text).emotion, intensity: 0.6,
    startedAt: l.startShowTime, endedAt: l.startShowTime + l.durationMs,
  })), o);
}

/**
 * A scene from a show journal: the improvised turns the ensemble journaled for `fromScene`
 * (speakers, emotions, intensities, gestures), or failing those, the performed lines of that scene.
 */
export function journalToScene(records: readonly JournalRecord[], o: { fromScene: string; sceneId: string; title?: string; maxPauseMs?: number }): SceneT {
  const turns = records.flatMap((r) => (r.type === 'event' && r.kind === 'improv-turn' && r.data.scene === o.fromScene ? [r.data as unknown as TurnRecord] : []));
  if (turns.length) return turnsToScene(turns, o);
  const lines = records.flatMap((r) => (r.type === 'line' && r.line.scene === o.fromScene && r.line.source === 'hub' ? [r.line] : []));
  if (!lines.length) throw new Error(`the journal has no lines of scene "${o.fromScene}"`);
  return transcriptToScene(lines, o);
}

/** A scene as YAML, one cue per line, ready to paste under `scenes:` of a show file. */
export function sceneYaml(scene: SceneT): string {
  return stringify([scene], { lineWidth: 0 });
}
