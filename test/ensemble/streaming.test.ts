/**
 * Streaming to the stage: a constrained turn's line is cut into speakable chunks as it is written
 * and performed part by part while the model is still writing the rest (kuroko-tiny's GGUF export
 * through llama.cpp, throttled, on the real clock, with the simulated performer); the record keeps
 * one line. And the node side: parts of a line are journaled as one transcript line (the order in
 * which a node speaks them: test/edge/cue-executor.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createBackend } from '../../hub/llm/create-backend.ts';
import { loadBackendConfig } from '../../hub/llm/load-config.ts';
import type { TextBackend } from '../../hub/llm/types.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { realClock } from '../../hub/ensemble/clock.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { firstClause, partialTurn, nextChunk, LineChunker, type LineChunk } from '../../hub/ensemble/stream-clause.ts';
import { LineParts } from '../../edge/line-parts.ts';
import { bladeCast, crossingSpec } from './helpers.ts';
import { HubStage } from '../../hub/ensemble/stage.ts';
import { startStage, waitFor, type Stage } from '../helpers/stage.ts';

describe('first clause of a partial line', () => {
  it('waits for a clause that is complete and long enough', () => {
    expect(firstClause('Wait, what')).toBeNull(); // too short before the comma
    expect(firstClause('We cross the river tonight, before')).toBe('We cross the river tonight,');
    expect(firstClause('We cross the river tonight.')).toBeNull(); // nothing after it yet: may be "..."
    expect(firstClause('まだ夜は長いよ。')).toBeNull();
    expect(firstClause('まだ夜は長いよ。行こう')).toBe('まだ夜は長いよ。');
  });

  it('reads the fields of a partial JSON turn, escapes undone', () => {
    expect(partialTurn('{"speaker":"KENZAKI","line":"He said \\"go\\", then')).toEqual({ line: 'He said "go", then' });
    expect(partialTurn('{"speaker":"K","line":"Go.","emotion":"joy","intensity":0.4,"gesture":"none"')).toMatchObject({ emotion: 'joy', intensity: 0.4, line: 'Go.' });
  });
});

describe('speakable chunks of a line being written', () => {
  it('cuts at a short natural break, or after a few words of a clause that runs on', () => {
    expect(nextChunk('We cross the river tonight, before', true)).toBe('We cross the river tonight,');
    // No break yet: the first chunk goes after four whole words, later ones after six.
    expect(nextChunk('We cross the river tonight and', true)).toBe('We cross the river');
    expect(nextChunk('We cross the river tonight and', false)).toBeNull();
    expect(nextChunk('We cross the river tonight and then', false)).toBe('We cross the river tonight and');
    expect(nextChunk('We cross the rive', true)).toBeNull(); // a word still being written
    expect(nextChunk('Go, go on and on', true)).toBe('Go, go on and'); // "Go," is too short a clause
    // Never inside a Japanese clause (its reading would break).
    expect(nextChunk('まだ夜は長いよ行こうか', true)).toBeNull();
  });

  it('gives each chunk once, in order, and the rest of the line the moment it closes', () => {
    const raw = '{"speaker":"Kenzaki","line":"We cross the river tonight, before the ice breaks under the carts, or never.","emotion":"fear","intensity":0.8,"gesture":"none"}';
    const closeAt = raw.indexOf('","emotion"') + 1;
    const chunker = new LineChunker();
    const got: { at: number; c: LineChunk }[] = [];
    for (let i = 1; i <= raw.length; i++) for (const c of chunker.feed(raw.slice(0, i))) got.push({ at: i, c });
    expect(got.map((g) => g.c.text).join(' ')).toBe('We cross the river tonight, before the ice breaks under the carts, or never.');
    expect(got.map((g) => g.c.index)).toEqual(got.map((_, i) => i));
    expect(got.length).toBeGreaterThanOrEqual(3);
    expect(got.filter((g) => g.c.last).map((g) => g.at)).toEqual([closeAt]);
    // The first chunk was out long before the line was complete; all are spoken alike.
    expect(got[0]!.at).toBeLessThan(raw.indexOf('before'));
    expect(new Set(got.map((g) => g.c.emotion)).size).toBe(1);
  });

  it('does not stream a line that is complete before its first chunk', () => {
    const chunker = new LineChunker();
    const raw = '{"speaker":"K","line":"Go now.","emotion":"fear"';
    const got: LineChunk[] = [];
    for (let i = 1; i <= raw.length; i++) got.push(...chunker.feed(raw.slice(0, i)));
    expect(got).toEqual([]);
  });
});

describe('streamed turns, kuroko-tiny GGUF at 20 tokens/s', () => {
  let backend: TextBackend;
  beforeAll(async () => {
    const config = loadBackendConfig('deploy/llm/kuroko-tiny-gguf.yaml');
    backend = createBackend({ ...config, tokensPerSecond: 20 } as typeof config, { logger: pino({ level: 'silent' }) });
    for await (const _ of backend.complete({ prompt: 'A:', maxTokens: 1 })) void _;
  }, 60_000);
  afterAll(async () => { await backend?.close?.(); });

  it('performs the first chunk before the turn is complete, then the rest in order, and records one line', async () => {
    const cast = bladeCast().map((c) => ({ ...c, latencyBudgetMs: 600_000 }));
    const performer = new SimPerformer(realClock, { msPerChar: 10 });
    const engine = new ImprovEngine({ cast, backend, clock: realClock, performer, memories: new MemoryBank() }, { seed: 3, fillers: false, stream: true, style: 'play' });
    const rec = await engine.run(crossingSpec({ beats: [], mustSay: [], minTurns: 3, maxTurns: 3 }));
    const streamed = rec.turns.filter((t) => t.streamed);
    expect(streamed.length).toBeGreaterThan(0);
    for (const t of streamed) {
      const parts = performer.log.filter((l) => l.part && l.startedAt >= t.startedAt - 1 && l.endedAt <= t.endedAt + 1);
      expect(parts[0]!.part).toMatchObject({ index: 0, last: false });
      expect(parts.map((p) => p.part!.index)).toEqual(parts.map((_, i) => i));
      expect(parts.length).toBe(t.parts);
      // One after the other, never over each other.
      for (let i = 1; i < parts.length; i++) expect(parts[i]!.startedAt).toBeGreaterThanOrEqual(parts[i - 1]!.endedAt);
      // One line in the record: the parts joined.
      expect(t.line).toBe(parts.map((p) => p.text).join(' '));
      // The first part started before the whole answer was written.
      expect(t.readyAt!).toBeGreaterThan(parts[0]!.startedAt);
    }
  }, 120_000);
});

describe('node transcript of a line in parts', () => {
  const base = { character: 'kenzaki', emotion: 'joy', scene: 'crossing', cue: null, source: 'hub' as const, startShowTime: 10, durationMs: 500 };
  it('publishes one line with the whole text, the first start and the summed duration', () => {
    const out: { text: string; startShowTime: number; durationMs: number }[] = [];
    const parts = new LineParts((l) => out.push(l));
    parts.spoken({ ...base, text: 'We cross tonight,' }, { line: 'x1', index: 0, last: false });
    expect(out).toEqual([]);
    parts.spoken({ ...base, text: 'before the moon.', startShowTime: 11, durationMs: 700 }, { line: 'x1', index: 1, last: true });
    expect(out).toMatchObject([{ text: 'We cross tonight, before the moon.', startShowTime: 10, durationMs: 1200 }]);
  });

  it('flushes a line whose last part never came when the next line starts', () => {
    const out: { text: string }[] = [];
    const parts = new LineParts((l) => out.push(l));
    parts.spoken({ ...base, text: 'We cross tonight,' }, { line: 'x1', index: 0, last: false });
    parts.spoken({ ...base, text: 'Agreed.' });
    expect(out.map((l) => l.text)).toEqual(['We cross tonight,', 'Agreed.']);
  });
});

describe('streamed parts through the hub and a node (embedded broker, edge process, sim voice)', () => {
  let stage: Stage;
  beforeAll(async () => { stage = await startStage(); }, 180_000);
  afterAll(async () => { await stage?.stop(); });

  it('a part sent while the one before is spoken waits for it, then follows at once; the transcript keeps one line', async () => {
    const hub = new HubStage(stage.hub);
    const c = bladeCast().find((x) => x.node === stage.show.cast[0]!.node)!;
    const turn = { speaker: c.id, emotion: 'determined' as const, intensity: 0.6 };
    // Both parts leave the hub together, as a fast model writes them; the first lasts ~1.9 s.
    const first = hub.perform({ character: c, turn: { ...turn, line: 'We cross the river tonight,' }, scene: 'crossing', part: { line: 'streamed-1', index: 0, last: false } });
    const second = hub.perform({ character: c, turn: { ...turn, line: 'or never.' }, scene: 'crossing', part: { line: 'streamed-1', index: 1, last: true } });
    const [a, b] = await Promise.all([first, second]);
    expect(a.endedAt - a.startedAt).toBeGreaterThan(1000);
    expect(b.startedAt).toBeGreaterThanOrEqual(a.endedAt - 50); // acks travel: a little slack, never overlap by a part
    expect(b.startedAt - a.endedAt).toBeLessThan(400); // no cue lead between the parts
    expect(b.endedAt).toBeGreaterThan(b.startedAt + 300);
    const line = await waitFor('the transcript line', () => stage.hub.transcript.find((l) => l.text.startsWith('We cross the river tonight,')));
    expect(line.text).toBe('We cross the river tonight, or never.');
    expect(stage.hub.transcript.filter((l) => l.text === 'or never.')).toEqual([]);
    hub.close();
  }, 60_000);
});
