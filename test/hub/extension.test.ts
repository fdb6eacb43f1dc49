/**
 * The hub's narrow core: what attaches to it is an extension with a name, started after the hub is
 * connected (or at once when added later), stopped in reverse order when the hub stops; at most one
 * performs improv/council cues; the console finds the ensemble by name. A real hub on its embedded broker.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import type { HubExtension } from '../../hub/extension.ts';
import { listen } from '../../hub/hub-events.ts';
import { attachEnsemble } from '../../hub/ensemble/runtime.ts';
import { ROOT } from '../helpers/stage.ts';

const show = loadShow(join(ROOT, 'test/fixtures/quick-show.yaml'));

describe('hub extensions', () => {
  it('start after the hub is up (or at once), stop in reverse order, and only one performs cues', async () => {
    const hub = new Hub({ show, port: 0, journalDir: mkdtempSync(join(tmpdir(), 'kuroko-ext-')), logger: pino({ level: 'silent' }) });
    const log: string[] = [];
    const ext = (name: string, extra: Partial<HubExtension> = {}): HubExtension => ({
      name, ...extra,
      start: () => { log.push(`start ${name} (broker ${hub.brokerUrl ? 'up' : 'down'})`); },
      stop: () => { log.push(`stop ${name}`); },
    });
    hub.use(ext('a'));
    hub.use(ext('b', { cueRunner: async () => ({ outcome: 'done' }) }));
    expect(() => hub.use(ext('a'))).toThrow(/named a is attached already/);
    expect(() => hub.use(ext('c', { cueRunner: async () => ({ outcome: 'done' }) }))).toThrow(/b does already/);
    expect(log).toEqual([]);
    await hub.start();
    try {
      expect(log).toEqual(['start a (broker up)', 'start b (broker up)']);
      hub.use(ext('late'));
      await new Promise((r) => setImmediate(r));
      expect(log.at(-1)).toBe('start late (broker up)');
      // No ensemble: the console says so; attached by name, the console finds it.
      expect((await hub.console.run('council/ask', { question: 'Why?' })).message).toMatch(/no ensemble is attached/);
    } finally {
      await hub.stop();
    }
    expect(log.slice(-3)).toEqual(['stop late', 'stop b', 'stop a']);
  });

  it('the ensemble is an extension: found by name, listens to typed events, and hears nothing once dropped', async () => {
    const hub = new Hub({ show, port: 0, journalDir: mkdtempSync(join(tmpdir(), 'kuroko-ext-')), logger: pino({ level: 'silent' }) });
    const e = attachEnsemble(hub);
    expect(hub.extension('ensemble')).toBe(e);
    const lines: string[] = [];
    const off = listen(hub, 'line', (l) => lines.push(l.text));
    hub.emit('line', { v: 1, node: 'ann', character: 'ann', text: 'Good evening.', scene: 'hello', cue: null, source: 'hub', startShowTime: 0, durationMs: 1, ts: 0 });
    off();
    hub.emit('line', { v: 1, node: 'ann', character: 'ann', text: 'Not heard.', scene: 'hello', cue: null, source: 'hub', startShowTime: 0, durationMs: 1, ts: 0 });
    expect(lines).toEqual(['Good evening.']);
    expect(hub.listenerCount('line')).toBeGreaterThan(0); // the ensemble's
    await e.detach();
    expect(hub.extension('ensemble')).toBeUndefined();
    expect(hub.listenerCount('line')).toBe(0);
    expect(hub.listenerCount('telemetry')).toBe(0);
  });
});
