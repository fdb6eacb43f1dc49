/**
 * The scheduler's timing rules, with nodes answered in process (the broker path is covered by the
 * integration tests).
 */
import { describe, it, expect, afterEach } from 'vitest';
import { performance } from 'node:perf_hooks';
import { Playback } from '../../hub/playback.ts';
import { NodeRegistry } from '../../hub/registry.ts';
import type { ShowT, ShowCueT } from '../../hub/show/schema.ts';
import type { CueT } from '../../protocol/index.ts';

const cast = ['a', 'b', 'c', 'd'].map((id) => ({ id, name: id.toUpperCase(), node: id }));
const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

function rig(cues: ShowCueT[], opts: { online?: string[]; actionMs?: number; silent?: string[] } = {}) {
  const show: ShowT = { kuroko: 1, show: 't', title: 't', settings: { minGoInterval: 0.2, leadTime: 0.5, ackTimeout: 0.3 }, cast, scenes: [{ id: 's', cues }] };
  const registry = new NodeRegistry(cast.map((c) => c.node));
  for (const n of opts.online ?? ['a', 'b', 'c', 'd']) registry.state(n, 'armed', undefined, 0);
  const t0 = performance.now();
  const fired: { cue: string; node: string; t: number }[] = [];
  const stops: string[] = [];
  const pb: Playback = new Playback({
    show, clock: { showNow: () => performance.now() - t0 }, registry,
    sendCue: (node: string, cue: CueT) => {
      // Every test cue is a line whose text is its show cue id.
      fired.push({ cue: cue.kind === 'line' ? cue.params.text : cue.kind, node, t: performance.now() - t0 });
      if (opts.silent?.includes(node)) return;
      const ack = (status: 'accepted' | 'started' | 'done', durationMs?: number) => pb.onAck(node, { v: 1, cue: cue.id, node, status, durationMs, showTime: 0, ts: 0 });
      setTimeout(() => { ack('accepted'); ack('started', opts.actionMs ?? 100); }, 5);
      setTimeout(() => ack('done'), 5 + (opts.actionMs ?? 100));
    },
    stopNode: (node) => stops.push(node),
  });
  const reports: string[] = [];
  pb.on('report', (r: { kind: string }) => reports.push(r.kind));
  const finished = new Promise<number>((r) => pb.once('scene-finished', () => r(performance.now() - t0)));
  closers.push(() => { pb.close(); registry.close(); });
  return { pb, fired, stops, reports, finished, registry };
}

const line = (id: string, character: string, extra: Partial<ShowCueT> = {}): ShowCueT => ({ id, kind: 'line', character, text: id, ...extra });

describe('playback timing', () => {
  it('auto-follow waits for completion; auto-continue fires after the post-wait', async () => {
    const { pb, fired, finished } = rig([
      line('q1', 'a', { continue: 'auto-continue', postWait: 0.05 }),
      line('q2', 'b', { continue: 'auto-follow', postWait: 0.05 }),
      line('q3', 'c'),
    ], { actionMs: 400 });
    expect(pb.startScene('s').ok).toBe(true);
    const end = await finished;
    expect(fired.map((f) => f.cue)).toEqual(['q1', 'q2', 'q3']);
    const [f1, f2, f3] = fired;
    expect(f2!.t - f1!.t).toBeGreaterThanOrEqual(30);   // postWait (50 ms) after q1's action started, less timer grain (a loaded CI machine measured 38.6)
    expect(f2!.t - f1!.t).toBeLessThan(300);            // … not after q1 completed (~405 ms)
    expect(f3!.t - f2!.t).toBeGreaterThanOrEqual(450);  // q2 completes (~405 ms) + postWait 50 ms
    expect(end).toBeGreaterThan(f3!.t);
  });

  it('pre-wait delays the action after GO', async () => {
    const { pb, fired, finished } = rig([line('q1', 'a', { preWait: 0.2 })]);
    const t = performance.now();
    pb.startScene('s');
    await finished;
    expect(fired[0]!.t).toBeGreaterThanOrEqual(195);
    expect(performance.now() - t).toBeGreaterThan(300);
  });

  it('GO fires the standby cue, ignores a GO inside the minimum interval, and says when the scene is done', async () => {
    const { pb, fired } = rig([line('q1', 'a', { notes: 'first' }), line('q2', 'b', { notes: 'lights!' })]);
    pb.startScene('s');
    expect(pb.snapshot()).toMatchObject({ standby: 'q2', standbyNotes: 'lights!' });
    const fast = pb.go();
    expect(fast).toMatchObject({ ok: false, message: expect.stringMatching(/minimum is 0.2 s/) });
    await new Promise((r) => setTimeout(r, 220));
    expect(pb.go()).toMatchObject({ ok: true, message: 'GO: cue q2' });
    await new Promise((r) => setTimeout(r, 220));
    expect(pb.go()).toMatchObject({ ok: false, message: expect.stringMatching(/no more cues/) });
    expect(fired.map((f) => f.cue)).toEqual(['q1', 'q2']);
  });

  it('skips a cue for a lost node and carries on', async () => {
    const { pb, fired, reports, finished } = rig([line('q1', 'a', { continue: 'auto-follow' }), line('q2', 'b', { continue: 'auto-follow' }), line('q3', 'c')], { online: ['a', 'c'] });
    pb.startScene('s');
    await finished;
    expect(fired.map((f) => f.node)).toEqual(['a', 'c']);
    expect(reports).toContain('cue-skipped');
  });

  it('reports a missing ack and moves on', async () => {
    const { pb, reports, finished } = rig([line('q1', 'a', { continue: 'auto-follow' }), line('q2', 'b')], { silent: ['a'] });
    pb.startScene('s');
    await finished;
    expect(reports).toEqual(['ack-missing']);
  });

  it('stop ends running cues, tells their nodes, and keeps the playhead', async () => {
    const { pb, stops } = rig([line('q1', 'a'), line('q2', 'b')], { actionMs: 2000 });
    pb.startScene('s');
    await new Promise((r) => setTimeout(r, 50));
    expect(pb.stop().message).toMatch(/stopped 1 running cue/);
    expect(stops).toEqual(['a']);
    expect(pb.snapshot()).toMatchObject({ status: 'stopped', standby: 'q2', running: [] });
  });

  it('refuses an unknown scene, naming the scenes it has', () => {
    const { pb } = rig([line('q1', 'a')]);
    expect(pb.startScene('nope')).toEqual({ ok: false, message: expect.stringMatching(/no scene "nope".*scenes: s/) });
  });

  it('fires each cue once when GO lands while an auto-follow cue runs (GO during p5 → p6 once)', async () => {
    const { pb, fired, finished } = rig([
      line('p4', 'a', { continue: 'auto-follow' }),
      line('p5', 'b', { continue: 'auto-follow' }),
      line('p6', 'c'),
      line('p7', 'd'),
    ], { actionMs: 400 });
    pb.startScene('s');
    await new Promise((r) => setTimeout(r, 600)); // p5 speaks now (auto-followed p4)
    expect(pb.snapshot().running).toEqual(['p5']);
    expect(pb.go()).toMatchObject({ ok: true, message: 'GO: cue p6' });
    await new Promise((r) => setTimeout(r, 600)); // p5 completes: its auto-follow finds p6 already fired
    expect(pb.go()).toMatchObject({ ok: true, message: 'GO: cue p7' });
    await finished;
    expect(fired.map((f) => f.cue)).toEqual(['p4', 'p5', 'p6', 'p7']);
  });

  it('restores a journaled position paused: nothing fires until GO, which resumes at the standby cue', async () => {
    const { pb, fired } = rig([line('q1', 'a'), line('q2', 'b'), line('q3', 'c')]);
    expect(pb.restore({ scene: 's', playhead: 2, status: 'running' })).toMatchObject({ ok: true, message: 'scene s paused at cue q3' });
    expect(pb.snapshot()).toMatchObject({ status: 'stopped', scene: 's', standby: 'q3', running: [] });
    await new Promise((r) => setTimeout(r, 200));
    expect(fired).toEqual([]);
    expect(pb.go()).toMatchObject({ ok: true, message: 'GO: cue q3' });
    expect(fired.map((f) => f.cue)).toEqual(['q3']);
    expect(pb.restore({ scene: 'gone', playhead: 0 })).toMatchObject({ ok: false, message: expect.stringMatching(/not in the show any more/) });
  });
});
