import { describe, it, expect } from 'vitest';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { MockImproviser, withLatency } from '../../hub/ensemble/mock-backend.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { ImprovEngine, type ImprovOptions, type ImprovDeps } from '../../hub/ensemble/improv.ts';
import { percentile } from '../../hub/ensemble/metrics.ts';
import { bladeCast, crossingSpec } from './helpers.ts';

async function scene(latencyMs: number, o: ImprovOptions, extra: Partial<ImprovDeps> = {}, budgetMs?: number) {
  const clock = new VirtualClock();
  const performer = new SimPerformer(clock);
  const cast = bladeCast().map((c) => (budgetMs === undefined ? c : { ...c, latencyBudgetMs: budgetMs }));
  const engine = new ImprovEngine({ cast, backend: withLatency(new MockImproviser({ seed: 9, faultRate: 0 }), latencyMs, clock), clock, performer, memories: new MemoryBank(), ...extra }, o);
  const rec = await clock.run(engine.run(crossingSpec({ beats: [], mustSay: [], maxTurns: 16, minTurns: 16 })));
  return { rec, performer, dead: rec.turns.slice(1).map((t) => t.deadAirMs) };
}

describe('improvised scenes: timing', () => {
  it('lookahead: the next turn is ready when the line ends (backend faster than a line)', async () => {
    const on = await scene(1200, { fillers: false });
    expect(Math.max(...on.dead)).toBeLessThanOrEqual(300);
    const off = await scene(1200, { fillers: false, lookahead: false });
    expect(percentile(off.dead, 50)).toBeGreaterThanOrEqual(1200);
  });

  it('never dead air: a late turn gets the "think" filler, then the fallback line past the budget', async () => {
    const { rec, performer, dead } = await scene(6000, {}, {}, 1500);
    expect(rec.turns).toHaveLength(16);
    expect(performer.log.some((p) => p.kind === 'filler-gesture' && p.gesture === 'think')).toBe(true);
    expect(rec.turns.some((t) => t.source === 'fallback')).toBe(true);
    expect(rec.stats.timeouts).toBeGreaterThan(0);
    expect(Math.max(...dead)).toBeLessThanOrEqual(300);
    // Without the think gesture the filler is a short line.
    const clock = new VirtualClock();
    const p2 = new SimPerformer(clock, { gestures: ['nod'] });
    const e2 = new ImprovEngine({ cast: bladeCast(), backend: withLatency(new MockImproviser({ seed: 9 }), 3000, clock), clock, performer: p2, memories: new MemoryBank() });
    await clock.run(e2.run(crossingSpec({ beats: [], mustSay: [], maxTurns: 3, minTurns: 3 })));
    expect(p2.log.some((p) => p.kind === 'filler-line')).toBe(true);
  });

  it('the operator\'s next speaker takes over within the lookahead', async () => {
    let want: string | null = null;
    let n = 0;
    const override = { get: () => want, clear: () => { want = null; } };
    const { rec } = await scene(500, {}, { override, onTurn: () => { if (++n === 4) want = 'mutsuki'; } });
    const i = rec.turns.findIndex((t) => t.reason === 'override');
    expect(i).toBeGreaterThanOrEqual(4);
    expect(i).toBeLessThanOrEqual(6);
    expect(rec.turns[i]!.speaker).toBe('mutsuki');
    expect(want).toBeNull();
  });

  it('is deterministic: same seed, same scene', async () => {
    const a = await scene(700, { seed: 3 });
    const b = await scene(700, { seed: 3 });
    expect(a.rec).toEqual(b.rec);
    const c = await scene(700, { seed: 4 });
    expect(c.rec.turns.map((t) => t.line)).not.toEqual(a.rec.turns.map((t) => t.line));
  });

  it('stops when the scene is stopped', async () => {
    const clock = new VirtualClock();
    const ctl = new AbortController();
    const engine = new ImprovEngine({ cast: bladeCast(), backend: withLatency(new MockImproviser(), 500, clock), clock, performer: new SimPerformer(clock), memories: new MemoryBank(), onTurn: (t) => { if (t.index === 2) ctl.abort('stop'); } });
    const rec = await clock.run(engine.run(crossingSpec({ maxTurns: 20, minTurns: 20 }), ctl.signal));
    expect(rec.endedBy).toBe('aborted');
    expect(rec.turns).toHaveLength(3);
  });
});

describe('curator mode', () => {
  it('a vetoed line is never performed: the character writes another, and the veto is counted', async () => {
    const vetoed: string[] = [];
    let asked = 0;
    const { rec } = await scene(400, { fillers: false }, {
      curate: async (line) => {
        asked++;
        // The operator cuts every third line the model writes.
        if (asked % 3 === 0) { vetoed.push(line.text); return 'vetoed'; }
        return 'approved';
      },
    });
    expect(vetoed.length).toBeGreaterThan(0);
    expect(rec.stats.curatorRejected).toBe(vetoed.length);
    const performed = rec.turns.map((t) => t.line);
    for (const v of vetoed) expect(performed).not.toContain(v);
    expect(rec.turns).toHaveLength(16);
  });
});
