import { describe, it, expect } from 'vitest';
import { EventEmitter } from 'node:events';
import { HubStage } from '../../hub/ensemble/stage.ts';
import { NodeRegistry } from '../../hub/registry.ts';
import { Playback } from '../../hub/playback.ts';
import { loadShow } from '../../hub/show/load.ts';
import type { Hub } from '../../hub/hub.ts';
import type { NodeBirthT } from '../../protocol/index.ts';
import { VirtualClock } from '../../hub/ensemble/clock.ts';
import { SimPerformer } from '../../hub/ensemble/sim-performer.ts';
import { MemoryBank } from '../../hub/ensemble/memory.ts';
import { ImprovEngine } from '../../hub/ensemble/improv.ts';
import { BLADE, bladeCast, crossingSpec, ListBackend } from './helpers.ts';

function birth(node: string, gestures: string[]): NodeBirthT {
  return { v: 1, node, bdSeq: 0, software: { name: 'kuroko', version: '0' }, platform: 'sim', hardware: 'sim', configHash: 'x', capabilities: { actuators: [], sensors: [], gestures, voice: true, localModel: false }, ts: Date.now() };
}

function fakeHub() {
  const show = loadShow(BLADE);
  const registry = new NodeRegistry(show.cast.map((c) => c.node));
  const published: { name: string; node?: string; payload: unknown }[] = [];
  const publish = (name: string, params: { node?: string }, payload: unknown) => { published.push({ name, ...params, payload }); };
  // The stage sends through the hub's Playback (the one cue factory); its cues reach `publish` here.
  const playback = new Playback({ show, clock: { showNow: () => 1000 }, registry, sendCue: (node, cue) => publish('nodeCue', { node }, cue), stopNode: () => undefined });
  const hub = Object.assign(new EventEmitter(), { o: { show }, registry, showNow: () => 1000, publish, playback });
  return { hub: hub as unknown as Hub, registry, published };
}

describe('gestures come only from the node capability manifest', () => {
  it('the hub refuses a gesture the node lacks: counted, reported, never sent', () => {
    const { hub, registry, published } = fakeHub();
    const stage = new HubStage(hub);
    const reports: unknown[] = [];
    stage.on('report', (r) => reports.push(r));
    const ken = bladeCast().find((c) => c.id === 'kenzaki')!;
    // Before its birth the node's gestures are unknown: refused.
    expect(stage.sendGesture(ken, 'nod', 'scene')).toBeNull();
    registry.birth('kenzaki', birth('kenzaki', ['nod', 'think']));
    expect(stage.sendGesture(ken, 'dance', 'scene')).toBeNull();
    expect(stage.refusedGestures.count).toBe(2);
    expect(reports).toHaveLength(2);
    expect(published).toHaveLength(0);
    const cue = stage.sendGesture(ken, 'nod', 'scene');
    expect(cue).toMatchObject({ kind: 'gesture', params: { name: 'nod' } });
    expect(published).toEqual([expect.objectContaining({ name: 'nodeCue', node: 'kenzaki' })]);
    stage.close();
  });

  it('an improvised turn asks only for gestures the node has', async () => {
    const clock = new VirtualClock();
    const performer = new SimPerformer(clock, { gestures: ['nod'] });
    const backend = new ListBackend([' (anger 0.9) No! Never! *shake*', ' (determined 0.9) We go now. *nod*', ' (joy 0.9) Hooray! *dance*']);
    const engine = new ImprovEngine({ cast: bladeCast(), backend, clock, performer, memories: new MemoryBank() }, { lookahead: false });
    const rec = await clock.run(engine.run(crossingSpec({ beats: [], mustSay: [], maxTurns: 3, minTurns: 3 })));
    expect(rec.turns.map((t) => t.gesture)).toEqual([undefined, 'nod', undefined]);
    expect(backend.requests[0]!.prompt).toContain('Gestures: nod.');
    expect(performer.log.filter((p) => p.gesture).every((p) => p.gesture === 'nod')).toBe(true);
  });
});
