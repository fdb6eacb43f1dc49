import { describe, it, expect } from 'vitest';
import { CharacterMemory, MemoryBank } from '../../hub/ensemble/memory.ts';
import { estimateTokens } from '../../hub/ensemble/backend.ts';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { MockImproviser } from '../../hub/ensemble/mock-backend.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { bladeCast, crossingSpec, ListBackend } from './helpers.ts';

describe('memory retrieval', () => {
  it('ranks by recency, importance and relevance', () => {
    const m = new CharacterMemory('kenzaki', { halfLifeMs: 60_000 });
    m.observe({ at: 0, scene: 's', kind: 'heard', text: 'The ferry runs at night across the river.', speaker: 'Aikawa' });
    m.observe({ at: 100_000, scene: 's', kind: 'heard', text: 'I am hungry.', speaker: 'Mutsuki' });
    m.observe({ at: 100_000, scene: 's', kind: 'sensor', text: 'Someone came within 50 cm of me (30 cm).' });
    const q = (query: string) => m.rank(query, 120_000).map((x) => x.o.text);
    // Relevance lifts an old line above a recent irrelevant one; importance lifts the sensor event.
    const ranked = q('ferry river');
    expect(ranked[0]).toContain('ferry');
    expect(ranked.indexOf('I am hungry.')).toBe(2);
    // With no relevance, the recent important event wins, then recency.
    expect(q('nothing')[0]).toContain('50 cm');
  });

  it('stays within the token budget, keeping the best, oldest first', () => {
    const m = new CharacterMemory('x');
    for (let i = 0; i < 40; i++) m.observe({ at: i * 1000, scene: 's', kind: 'heard', text: `Line number ${i} about ${i % 5 === 0 ? 'the old ferry' : 'the weather'} today.` });
    const got = m.retrieve('ferry', 40, 40_000);
    const cost = got.reduce((a, o) => a + estimateTokens(o.text) + 2, 0);
    expect(cost).toBeLessThanOrEqual(40);
    expect(got.length).toBeGreaterThan(1);
    expect(got.every((o) => o.text.includes('ferry'))).toBe(true);
    expect(got.map((o) => o.id)).toEqual([...got.map((o) => o.id)].sort((a, b) => a - b));
    expect(m.retrieve('ferry', 0, 0)).toEqual([]);
  });

  it('keeps a running summary per scene of the lines beyond the recent window', () => {
    const m = new CharacterMemory('x', { window: 3 });
    for (let i = 0; i < 6; i++) m.observe({ at: i, scene: 'a', kind: 'heard', text: `Point ${i}. More words.`, speaker: 'Aikawa' });
    m.observe({ at: 9, scene: 'b', kind: 'heard', text: 'Other scene.', speaker: 'Kenzaki' });
    expect(m.summary('a')).toBe('Aikawa: Point 0. Aikawa: Point 1. Aikawa: Point 2.');
    expect(m.summary('b')).toBe('');
  });
});

describe('on-stage knowledge', () => {
  it('a character off stage does not know what was said on stage', async () => {
    const cast = bladeCast();
    const bank = new MemoryBank();
    bank.line(['kenzaki', 'aikawa'], { at: 0, scene: 's', speaker: 'kenzaki', speakerName: 'Kenzaki', text: 'The password is moonrise.' });
    expect(bank.get('aikawa').knows('moonrise')).toBe(true);
    expect(bank.get('mutsuki').knows('moonrise')).toBe(false);

    // Through a whole improvised scene: two on stage, then a later scene with the others.
    const clock = new VirtualClock();
    const engine = new ImprovEngine({ cast, backend: new MockImproviser({ seed: 5, faultRate: 0 }), clock, performer: new SimPerformer(clock), memories: bank });
    const rec = await clock.run(engine.run(crossingSpec({ id: 'secret', onStage: ['kenzaki', 'aikawa'], beats: [], mustSay: [{ character: 'kenzaki', text: 'Tell no one: the key is under the red lantern.' }], maxTurns: 4, minTurns: 4 })));
    expect(rec.turns.some((t) => t.line.includes('red lantern'))).toBe(true);
    expect(bank.get('aikawa').knows('red lantern')).toBe(true);
    expect(bank.get('tachibana').knows('red lantern')).toBe(false);
    expect(bank.get('mutsuki').knows('red lantern')).toBe(false);
    // ... and nothing of it reaches their prompts in the next scene.
    const spy = new ListBackend([(req) => `(calm 0.5) ${req.prompt!.includes('red lantern') ? 'I know about the lantern.' : 'All is quiet here.'}`]);
    const engine2 = new ImprovEngine({ cast, backend: spy, clock, performer: new SimPerformer(clock), memories: bank }, { lookahead: false });
    await clock.run(engine2.run(crossingSpec({ id: 'later', onStage: ['tachibana', 'mutsuki'], beats: [], mustSay: [], maxTurns: 2, minTurns: 2 })));
    expect(spy.requests.length).toBeGreaterThan(0);
    for (const r of spy.requests) expect(r.prompt).not.toContain('red lantern');
  });
});

describe('memory over a long run', () => {
  it('keeps at most maxObservations, oldest forgotten first, and folding still summarises new lines', () => {
    const m = new CharacterMemory('kenzaki', { maxObservations: 50, window: 4 });
    for (let i = 0; i < 600; i++) m.observe({ kind: 'heard', text: `Line number ${i} about the ferry.`, speaker: 'aikawa', scene: `s${i % 3}`, at: i * 1000 });
    expect(m.all()).toHaveLength(50);
    expect(m.all()[0]!.text).toBe('Line number 550 about the ferry.');
    expect(m.all().at(-1)!.text).toBe('Line number 599 about the ferry.');
    // The summaries kept folding after the oldest lines were dropped: the newest folded line is there.
    expect(m.summary('s0')).toMatch(/Line number 58\d/);
  });
});
