/**
 * A real node process on the emulated Uno, armed by a real hub, moving: the board is unplugged
 * mid-motion. The node's gate revokes (event/revoked with cause fault), the node reports fault,
 * and when the board is plugged back in the node is ready but not armed, and the board idle.
 * This is the drill's building block (test/helpers/board-node.ts).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { newCueId } from '../../hub/playback.ts';
import { filter } from '../../protocol/index.ts';
import { ROOT, recorder } from '../helpers/stage.ts';
import { startBoardNode } from '../helpers/board-node.ts';
import { waitFor, sleep } from './helpers.ts';

describe('a board unplugged mid-motion under a real node process', () => {
  it('revokes and goes safe, reports fault, and stays disarmed when the board returns', async () => {
    const hub = new Hub({ show: loadShow(join(ROOT, 'test/fixtures/quick-show.yaml')), port: 0, logger: pino({ level: 'silent' }), journalDir: mkdtempSync(join(tmpdir(), 'kuroko-')) });
    await hub.start();
    const board = await startBoardNode({ brokerUrl: hub.brokerUrl, show: 'quick', node: 'ann' });
    const rec = await recorder(hub.brokerUrl, [filter('quick', 'nodeEvent', { node: 'ann' })]);
    try {
      await waitFor('node ready', () => hub.registry.get('ann')?.state === 'ready', 60_000);
      await waitFor('armed', async () => (await hub.console.run('arm')).ok && hub.registry.get('ann')?.state === 'armed', 10_000);
      const at = hub.showNow() + 100;
      hub.publish('nodeCue', { node: 'ann' }, { v: 1, id: newCueId(), scene: 'hello', seq: 0, at, deadline: at + 1000, ts: Date.now(), kind: 'motion', params: { servos: { pan: 160 }, motors: { wheel: 0.4 }, durationMs: 4000 } });
      await waitFor('moving', async () => { const p = await board.pins(); return p.pan > 0 && p.wheel > 0; }, 10_000);
      const unplugged = await board.unplug();
      const revoked = await waitFor('event/revoked with cause fault', () => rec.messages.find((m) => m.topic.endsWith('/event/revoked') && JSON.parse(m.payload).data.cause === 'fault'), 10_000);
      const revokedAt = performance.now();
      await waitFor('hub sees fault', () => hub.registry.get('ann')?.state === 'fault', 5000);
      expect(JSON.parse(revoked.payload).data.reason).toMatch(/board body/);
      expect(revokedAt - unplugged).toBeLessThan(10_000);
      await board.replug();
      await waitFor('ready again', () => hub.registry.get('ann')?.state === 'ready', 20_000);
      await sleep(500);
      expect(hub.registry.get('ann')?.state).toBe('ready'); // never armed by itself
      expect(await board.boardSafe()).toBe(true); // and the returned board drives nothing
    } finally {
      await rec.client.endAsync();
      await board.stop();
      await hub.stop();
    }
  }, 150_000);
});
