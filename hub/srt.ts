/**
 * SRT subtitles of a performance, timed from when each line was actually performed, and the
 * reverse: an .srt whose lines read "Speaker: text" becomes a scripted scene.
 */
import { stringifySync, parseSync, type NodeCue } from 'subtitle';
import type { TranscriptLineT } from '../protocol/index.ts';

/**
 * names: character id → display name. Each subtitle lasts as long as its line was performed
 * (the node's durationMs: the real voice's, or the speaking rate of its language). Times count
 * from `origin` (show time, e.g. when the scene started, so a lead-in is kept), by default from
 * the first line.
 */
export function transcriptToSrt(lines: TranscriptLineT[], names: Record<string, string> = {}, o: { origin?: number } = {}): string {
  if (lines.length === 0) return '';
  const first = Math.min(...lines.map((l) => l.startShowTime));
  const t0 = o.origin !== undefined ? Math.min(o.origin, first) : first;
  const nodes: NodeCue[] = [...lines]
    .sort((a, b) => a.startShowTime - b.startShowTime)
    .map((l) => ({
      type: 'cue',
      data: {
        start: Math.round(l.startShowTime - t0),
        end: Math.round(l.startShowTime - t0 + l.durationMs),
        text: `${names[l.character] ?? l.character}: ${l.text}`,
      },
    }));
  return stringifySync(nodes, { format: 'SRT' });
}

export interface SrtLine { speaker: string; text: string; startMs: number; endMs: number }

/** Parses an .srt whose cues read "Speaker: text"; a cue without a speaker is an error naming it. */
export function parseSpeakerSrt(file: string, text: string): SrtLine[] {
  const cues = parseSync(text).filter((n): n is NodeCue => n.type === 'cue');
  return cues.map((c, i) => {
    const m = /^\s*([^:\n]{1,80}):\s*([\s\S]+)$/.exec(c.data.text);
    if (!m) throw new Error(`${file}: subtitle ${i + 1} ("${c.data.text.slice(0, 40)}") has no "Speaker: text" form`);
    return { speaker: m[1]!.trim(), text: m[2]!.replace(/\s*\n\s*/g, ' ').trim(), startMs: c.data.start, endMs: c.data.end };
  });
}
