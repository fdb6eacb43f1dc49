import { describe, it, expect } from 'vitest';
import { Council, CouncilError } from '../../hub/ensemble/council.ts';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { MockImproviser } from '../../hub/ensemble/mock-backend.ts';
import { decode } from '../../protocol/index.ts';
import { bladeCast, ListBackend } from './helpers.ts';

function council(backend = new MockImproviser({ seed: 3 })) {
  const clock = new VirtualClock();
  const performer = new SimPerformer(clock);
  const memories = new MemoryBank();
  const c = new Council({ cast: bladeCast(), backend, clock, performer, memories });
  return { c, clock, performer, memories };
}

describe('council mode', () => {
  it('asks each agent in role order, performs each take, then synthesises', async () => {
    const { c, clock, performer, memories } = council();
    const r = await clock.run(c.ask('Should we cross the river tonight?'));
    expect(r.takes.map((t) => [t.agent, t.role])).toEqual([['aikawa', 'intelligence'], ['tachibana', 'analysis'], ['kenzaki', 'decision']]);
    expect(r.answer).toMatchObject({ agent: 'mutsuki', role: 'synthesis' });
    expect(r.answer.line).toMatch(/^Our answer:/);
    // Every take was performed by its agent's robot, in order, one after another.
    const lines = performer.log.filter((p) => p.kind === 'line');
    expect(lines.map((p) => p.character)).toEqual(['aikawa', 'tachibana', 'kenzaki', 'mutsuki']);
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.startedAt).toBeGreaterThanOrEqual(lines[i - 1]!.endedAt);
    expect(memories.get('kenzaki').knows('Should we cross the river tonight?')).toBe(true);
  });

  it('parameters change the take: risk tolerance and analysis depth', async () => {
    const { c, clock } = council();
    c.customize('kenzaki', { params: { riskTolerance: 0.1 } });
    const agents = ['kenzaki', 'tachibana', 'mutsuki'];
    const low = await clock.run(c.ask('Do we take the ferry?', { agents }));
    c.customize('kenzaki', { params: { riskTolerance: 0.8 } });
    c.customize('tachibana', { params: { analysisDepth: 'high' } });
    const high = await clock.run(c.ask('Do we take the ferry?', { agents }));
    expect(low.takes.find((t) => t.agent === 'tachibana')!.line).not.toBe(high.takes.find((t) => t.agent === 'tachibana')!.line);
    expect(low.takes.find((t) => t.agent === 'kenzaki')!.line).toMatch(/wait/i);
    expect(high.takes.find((t) => t.agent === 'kenzaki')!.line).toMatch(/commit/i);
    expect(high.answer.line).toMatch(/commit/i);
    expect(() => c.customize('kenzaki', { params: { riskTolerance: 2 } })).toThrow(CouncilError);
  });

  it('a capability gives an agent facts for its take', async () => {
    const backend = new ListBackend([(req) => ` (calm 0.5) ${/Known: (.*)/.exec(req.prompt!)?.[1] ?? 'I know nothing.'}`]);
    const { c, clock } = council(backend as never);
    c.addCapability('aikawa', 'tides', () => 'the tide turns at nine');
    const r = await clock.run(c.ask('When do we leave?', { agents: ['aikawa'] }));
    expect(c.agent('aikawa').capabilities).toContain('tides');
    expect(r.answer.line).toBe('the tide turns at nine');
  });

  it('creates a new agent with a role, who then takes part', async () => {
    const { c, clock } = council();
    const a = c.createAgent({ id: 'strategist', role: 'strategy', node: 'mutsuki', params: { riskTolerance: 0.7 } });
    expect(a).toMatchObject({ name: 'Strategist', role: 'strategy', node: 'mutsuki', traits: { riskTolerance: 0.7 } });
    expect(() => c.createAgent({ id: 'strategist', role: 'x' })).toThrow(/exists/);
    const r = await clock.run(c.ask('What now?'));
    expect(r.takes.map((t) => t.agent)).toContain('strategist');
    expect(r.takes.at(-1)!.agent).toBe('strategist'); // unknown roles speak after the known ones
  });

  it('falls back to a line in role when the model gives nothing usable', async () => {
    const { c, clock } = council(new ListBackend(['<|endoftext|>']) as never);
    const r = await clock.run(c.ask('Is the road safe?', { agents: ['tachibana', 'kenzaki'] }));
    expect(r.takes[0]).toMatchObject({ agent: 'tachibana', source: 'fallback' });
    expect(r.answer).toMatchObject({ agent: 'kenzaki', source: 'fallback' });
    expect(r.stats.fallbacks).toBe(2);
  });

  it('console payloads: council/ask takes bare text, next-speaker a bare id', () => {
    expect(decode('consoleCouncilAsk', 'Should we go?')).toEqual({ ok: true, value: { question: 'Should we go?' } });
    expect(decode('consoleCouncilAsk', '{"question":"Go?","onStage":["kenzaki"]}')).toMatchObject({ ok: true });
    expect(decode('consoleCouncilAsk', '').ok).toBe(false);
    expect(decode('consoleNextSpeaker', 'aikawa')).toEqual({ ok: true, value: { character: 'aikawa' } });
    expect(decode('consoleNextSpeaker', 'Not An Id').ok).toBe(false);
    expect(decode('consoleCouncilAgent', '{"id":"kenzaki","params":{"riskTolerance":0.8},"addCapability":"sensors"}').ok).toBe(true);
    expect(decode('consoleCouncilAgent', '{"id":"kenzaki","params":{"risk":0.8}}').ok).toBe(false);
  });
});
