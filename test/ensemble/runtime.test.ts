import { describe, it, expect } from 'vitest';
import { EventEmitter } from 'node:events';
import { attachEnsemble } from '../../hub/ensemble/runtime.ts';
import { ConsoleCommands } from '../../hub/console.ts';
import { NodeRegistry } from '../../hub/registry.ts';
import { loadShow } from '../../hub/show/load.ts';
import type { Hub } from '../../hub/hub.ts';
import type { HubExtension } from '../../hub/extension.ts';
import { NextSpeaker } from '../../hub/next-speaker.ts';
import { BLADE } from './helpers.ts';

function fakeHub() {
  const show = loadShow(BLADE);
  const published: { name: string; payload: unknown }[] = [];
  // The hub's extension registry, as small as the ensemble needs it (the real one: hub/hub.ts use/extension/drop).
  const extensions: HubExtension[] = [];
  const hub = Object.assign(new EventEmitter(), {
    o: { show }, registry: new NodeRegistry(show.cast.map((c) => c.node)), showNow: () => 0, estopActive: false,
    nextSpeaker: new NextSpeaker(), journal: null,
    use: (e: HubExtension) => { extensions.push(e); return e; },
    extension: (name: string) => extensions.find((e) => e.name === name),
    drop: async (e: HubExtension) => { extensions.splice(extensions.indexOf(e), 1); await e.stop?.(); },
    playback: { snapshot: () => ({ scene: 'prologue' }) },
    publish: (name: string, _p: unknown, payload: unknown) => { published.push({ name, payload }); },
  }) as unknown as Hub;
  (hub as unknown as { console: ConsoleCommands }).console = new ConsoleCommands(hub);
  return { hub, published };
}

describe('the ensemble on a hub', () => {
  it('remembers its own node\'s sensor events, once per approach', async () => {
    const { hub } = fakeHub();
    const e = attachEnsemble(hub);
    expect(hub.extension('ensemble')).toBe(e);
    expect(e.cueRunner).toBeTypeOf('function');
    const reading = (value: number) => hub.emit('telemetry', 'kenzaki', { v: 1, sensor: 'front-distance', value, unit: 'cm', ts: 0 });
    reading(120); reading(40); reading(35); reading(90); reading(30);
    const sensed = e.memories.get('kenzaki').all().filter((o) => o.kind === 'sensor');
    expect(sensed.map((o) => o.text)).toEqual(['Someone came within 50 cm of me (40 cm).', 'Someone came within 50 cm of me (30 cm).']);
    expect(e.memories.get('aikawa').all().some((o) => o.kind === 'sensor')).toBe(false);
    hub.emit('node-event', 'aikawa', { v: 1, kind: 'limit', data: { reason: 'servo arm clamped' }, ts: 0 });
    expect(e.memories.get('aikawa').knows('servo arm clamped')).toBe(true);
    // Scripted lines are heard by the characters of that scene.
    hub.emit('line', { v: 1, node: 'aikawa', character: 'aikawa', text: 'The bridge to the east is down.', scene: 'prologue', cue: null, source: 'hub', startShowTime: 0, durationMs: 1, ts: 0 });
    expect(e.memories.get('kenzaki').knows('bridge to the east')).toBe(true);
    await e.detach();
    expect(hub.extension('ensemble')).toBeUndefined();
    // Detached, it hears nothing more.
    hub.emit('line', { v: 1, node: 'aikawa', character: 'aikawa', text: 'The lamp in the west is lit.', scene: 'prologue', cue: null, source: 'hub', startShowTime: 0, durationMs: 1, ts: 0 });
    expect(e.memories.get('kenzaki').knows('lamp in the west')).toBe(false);
  });

  it('answers the console: next-speaker, council/agent, council/ask', async () => {
    const { hub } = fakeHub();
    const e = attachEnsemble(hub);
    expect(await hub.console.run('next-speaker', { character: 'aikawa' })).toMatchObject({ ok: true });
    expect(hub.nextSpeaker.current).toBe('aikawa');
    expect(await hub.console.run('next-speaker', { character: 'hamlet' })).toMatchObject({ ok: false, message: expect.stringMatching(/no character "hamlet"/) });
    expect(await hub.console.run('council/agent', { id: 'kenzaki', params: { riskTolerance: 0.8, analysisDepth: 'high' }, addCapability: 'sensors' })).toMatchObject({ ok: true });
    expect(e.character('kenzaki')).toMatchObject({ traits: { riskTolerance: 0.8, analysisDepth: 'high' }, capabilities: ['sensors'] });
    expect(await hub.console.run('council/agent', { id: 'scout', create: true, role: 'intelligence', node: 'aikawa' })).toMatchObject({ ok: true });
    expect(e.council.agents().map((a) => a.id)).toContain('scout');
    expect(await hub.console.run('council/agent', { id: 'nobody', params: { riskTolerance: 0.1 } })).toMatchObject({ ok: false });
    expect(await hub.console.run('council/agent', { id: 'x', create: true })).toMatchObject({ ok: false, message: expect.stringMatching(/needs a role/) });
    // A console council stops on e-stop.
    const slow = { name: 'slow', async *complete(req: { signal?: AbortSignal }) { await new Promise((_r, reject) => req.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })))); yield ''; } };
    const e2 = attachEnsemble(hub, { backend: slow });
    expect(await hub.console.run('council/ask', { question: 'Go?' })).toMatchObject({ ok: true });
    expect(e2.council.busy).toBe(true);
    expect(await hub.console.run('council/ask', { question: 'Again?' })).toMatchObject({ ok: false, message: expect.stringMatching(/performing/) });
    hub.emit('show-state', { v: 1, status: 'idle', scene: null, standby: null, running: [], armed: true, estop: true, ts: 0 });
    await new Promise((r) => setTimeout(r, 20));
    expect(e2.council.busy).toBe(false);
    (hub as unknown as { estopActive: boolean }).estopActive = true;
    expect(await hub.console.run('council/ask', { question: 'Go?' })).toMatchObject({ ok: false, message: expect.stringMatching(/e-stop/) });
    e2.detach();
    expect(e.council).toBeDefined();
  });
});
