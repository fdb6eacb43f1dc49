/**
 * Streaming to the stage: a constrained turn's first clause is performed while the model is still
 * writing the rest (kuroko-tiny's GGUF export through llama.cpp, throttled, on the real clock,
 * with the simulated performer); the record keeps one line. And the node side: parts of a line
 * are journaled as one transcript line.
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
import { firstClause, partialTurn } from '../../hub/ensemble/stream-clause.ts';
import { LineParts } from '../../edge/line-parts.ts';
import { bladeCast, crossingSpec } from './helpers.ts';

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

describe('streamed turns, kuroko-tiny GGUF at 20 tokens/s', () => {
  let backend: TextBackend;
  beforeAll(async () => {
    const config = loadBackendConfig('deploy/llm/kuroko-tiny-gguf.yaml');
    backend = createBackend({ ...config, tokensPerSecond: 20 } as typeof config, { logger: pino({ level: 'silent' }) });
    for await (const _ of backend.complete({ prompt: 'A:', maxTokens: 1 })) void _;
  }, 60_000);
  afterAll(async () => { await backend?.close?.(); });

  it('performs the first clause before the turn is complete, then the rest, and records one line', async () => {
    const cast = bladeCast().map((c) => ({ ...c, latencyBudgetMs: 600_000 }));
    const performer = new SimPerformer(realClock, { msPerChar: 10 });
    const engine = new ImprovEngine({ cast, backend, clock: realClock, performer, memories: new MemoryBank() }, { seed: 3, fillers: false, stream: true, style: 'play' });
    const rec = await engine.run(crossingSpec({ beats: [], mustSay: [], minTurns: 3, maxTurns: 3 }));
    const streamed = rec.turns.filter((t) => t.streamed);
    expect(streamed.length).toBeGreaterThan(0);
    for (const t of streamed) {
      const parts = performer.log.filter((l) => l.part && l.startedAt >= t.startedAt - 1 && l.endedAt <= t.endedAt + 1);
      expect(parts[0]!.part).toMatchObject({ index: 0, last: false });
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
