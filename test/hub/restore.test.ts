/**
 * A hub restarted on the journal of a crashed one comes back paused, with the e-stop standing (and
 * re-published, stamped), the scene and playhead restored, the interrupted cues named, and a newer
 * epoch — on a real (embedded) broker, watched by a real MQTT client.
 */
import { describe, it, expect, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { readJournal } from '../../hub/journal.ts';
import { filter } from '../../protocol/index.ts';
import { recorder, ROOT } from '../helpers/stage.ts';
import { waitFor } from '../helpers/wait.ts';

const show = loadShow(join(ROOT, 'test/fixtures/quick-show.yaml'));
const hubs: Hub[] = [];
afterEach(async () => { await Promise.all(hubs.splice(0).map((h) => h.stop())); });

function crashedJournal(dir: string): void {
  const at = new Date().toISOString();
  const lines = [
    { at, type: 'show', action: 'hub-start', detail: 'epoch x' },
    { at, type: 'estop', active: true, stamp: { epoch: 3, seq: 2 }, source: 'console', reason: 'smoke' },
    { at, type: 'playback', position: { scene: 'manual', playhead: 1, standby: 'm2', status: 'running', running: ['m1'] } },
    { at, type: 'line', line: { v: 1, node: 'ann', character: 'ann', text: 'First.', scene: 'manual', cue: null, source: 'hub', startShowTime: 1, durationMs: 400, ts: 1 } },
  ];
  // No hub-stop: the hub was killed. The last line is torn, as a crash mid-write leaves it.
  writeFileSync(join(dir, 'quick-2026-01-01T00-00-00-000Z.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"at":"2026-01-01","type":"li');
}

describe('the hub comes back paused', () => {
  it('restores e-stop, scene and playhead from the last journal; reports what was interrupted; fires nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-restore-'));
    crashedJournal(dir);
    const hub = new Hub({ show, port: 0, journalDir: dir, logger: pino({ level: 'silent' }) });
    hubs.push(hub);
    const replies: string[] = [];
    hub.on('hub-report', (r: { kind: string }) => replies.push(r.kind));
    await hub.start();
    expect(hub.estopActive).toBe(true);
    expect(hub.estopStamp).toEqual({ epoch: 3, seq: 2 }); // the crashed hub's e-stop; this hub's epoch is 4 (see the release below)
    expect(hub.playback.snapshot()).toMatchObject({ status: 'stopped', scene: 'manual', standby: 'm2', running: [] });
    expect(hub.transcript.map((l) => l.text)).toEqual(['First.']);
    expect(replies).toContain('restored');
    const rec = await recorder(hub.brokerUrl, [filter('quick', 'estop'), filter('quick', 'showState'), filter('quick', 'nodeCue')]);
    try {
      await waitFor('the retained e-stop', () => rec.messages.find((m) => m.topic.endsWith('/estop')));
      const estop = JSON.parse(rec.messages.find((m) => m.topic.endsWith('/estop'))!.payload);
      expect(estop).toMatchObject({ active: true, stamp: { epoch: 3, seq: 2 } });
      await waitFor('show/state', () => rec.messages.find((m) => m.topic.endsWith('/show/state')));
      expect(JSON.parse(rec.messages.find((m) => m.topic.endsWith('/show/state'))!.payload)).toMatchObject({ estop: true, scene: 'manual', standby: 'm2', status: 'stopped' });
      // Nothing fires by itself, and nothing can while the e-stop stands.
      expect((await hub.console.run('go')).message).toMatch(/e-stop is active/);
      expect((await hub.console.run('arm')).ok).toBe(false);
      const released = await hub.console.run('release');
      expect(released.stamp).toEqual({ epoch: 4, seq: 1 });
      await new Promise((r) => setTimeout(r, 300));
      expect(rec.messages.filter((m) => m.topic.includes('/cue'))).toEqual([]);
    } finally {
      await rec.client.endAsync();
    }
    const journal = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!;
    const records = readJournal(join(dir, journal));
    expect(records.find((r) => r.type === 'restored')).toMatchObject({ estop: true, interrupted: ['m1'], lines: 1 });
    expect(records.filter((r) => r.type === 'estop').map((r) => (r as { active: boolean }).active)).toEqual([true, false]);
  });

  it('journals a line a node sends again once, and confirms it either way (the node keeps a line until confirmed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-restore-'));
    crashedJournal(dir);
    const hub = new Hub({ show, port: 0, journalDir: dir, logger: pino({ level: 'silent' }) });
    hubs.push(hub);
    await hub.start();
    const rec = await recorder(hub.brokerUrl, [filter('quick', 'nodeJournaled', { node: 'ann' })]);
    try {
      // 'First.' is in the crashed hub's journal; the node never got its receipt and sends it again.
      const again = { v: 1, node: 'ann', character: 'ann', text: 'First.', scene: 'manual', cue: null, source: 'hub', startShowTime: 1, durationMs: 400, seq: 0, ts: 1 };
      const fresh = { ...again, text: 'Second.', startShowTime: 500, seq: 1, ts: 2 };
      for (const l of [again, fresh, fresh]) await rec.client.publishAsync('kuroko/v1/quick/transcript', JSON.stringify(l), { qos: 1 });
      await waitFor('three receipts', () => rec.messages.length >= 3 ? rec.messages : null, 5000);
      expect(rec.messages.map((m) => JSON.parse(m.payload)).map((r: { seq: number; lineTs: number }) => [r.seq, r.lineTs])).toEqual([[0, 1], [1, 2], [1, 2]]);
    } finally {
      await rec.client.endAsync();
    }
    const journal = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort().at(-1)!;
    const lines = readJournal(join(dir, journal)).filter((r) => r.type === 'line').map((r) => (r as { line: { text: string } }).line.text);
    expect(lines).toEqual(['Second.']);
  });

  it('starts fresh without a journal, with epoch 1', async () => {
    const hub = new Hub({ show, port: 0, journalDir: mkdtempSync(join(tmpdir(), 'kuroko-restore-')), logger: pino({ level: 'silent' }) });
    hubs.push(hub);
    await hub.start();
    expect(hub.restored).toBeNull();
    expect(hub.estopActive).toBe(false);
    expect((await hub.console.run('estop')).stamp).toEqual({ epoch: 1, seq: 1 });
  });
});
