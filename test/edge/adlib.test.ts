/**
 * The node's local model, for real: the shipped int8 ONNX model on onnxruntime-node, in a real
 * edge process, covering for a hub that went silent and for a line that came too late.
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Adlibber } from '../../edge/adlib.ts';
import { startEmbeddedBroker } from '../../hub/broker.ts';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { newCueId } from '../../hub/playback.ts';
import { filter } from '../../protocol/index.ts';
import { recorder, spawnEdge, stopChild, waitFor, ROOT } from '../helpers/stage.ts';

describe('local ad-libs', () => {
  it('writes a non-empty line in character from the shipped model, within its budget', async () => {
    const a = await Adlibber.load({ id: 'kenzaki', name: 'Kenzaki', persona: 'decides fast' });
    a.hear('tachibana', 'The river road doubles our risk.');
    const r = await a.line('late-line', 1500);
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.text).not.toMatch(/\n/);
    expect(r.ms).toBeLessThan(3000);
  });

  it('a node covers a late line, and keeps talking in character when its hub goes silent', async () => {
    const broker = await startEmbeddedBroker(0);
    const show = loadShow(join(ROOT, 'test/fixtures/quick-show.yaml'));
    const hub = new Hub({ show, brokerUrl: broker.url, logger: pino({ level: 'silent' }), journalDir: mkdtempSync(join(tmpdir(), 'kuroko-')) });
    await hub.start();
    const rec = await recorder(broker.url, [filter('quick', 'transcript'), filter('quick', 'nodeCueAck')]);
    const edge = spawnEdge('quick', 'ann', broker.url, ['--character-name', 'Ann']);
    try {
      await waitFor('ann ready', () => hub.registry.get('ann')?.state === 'ready', 30000);
      expect(hub.registry.get('ann')?.birth?.capabilities.localModel).toBe(true);
      // A line whose deadline has passed: the node rejects it and covers with an ad-lib.
      const id = newCueId();
      const past = hub.showNow() - 2000;
      hub.publish('nodeCue', { node: 'ann' }, { v: 1, id, scene: 'hello', seq: 0, at: past, deadline: past + 100, ts: Date.now(), kind: 'line', params: { character: 'ann', text: 'Too late.' } });
      await waitFor('ad-lib for the late line', () => rec.messages.some((m) => m.topic.endsWith('/transcript') && JSON.parse(m.payload).source === 'adlib'), 10000);
      const ack = rec.messages.map((m) => JSON.parse(m.payload)).find((m) => m.cue === id);
      expect(ack).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/late.*covers with an ad-lib/) });
      // The hub goes away: after the watchdog, the node ad-libs on its own.
      const before = rec.messages.length;
      await hub.stop();
      await waitFor('ad-lib without a hub', () => rec.messages.slice(before).some((m) => m.topic.endsWith('/transcript') && JSON.parse(m.payload).source === 'adlib'), 10000);
      const line = rec.messages.slice(before).map((m) => JSON.parse(m.payload)).find((m) => m.source === 'adlib');
      expect(line).toMatchObject({ node: 'ann', character: 'ann', scene: null, cue: null });
      expect(line.text.length).toBeGreaterThan(0);
    } finally {
      await stopChild(edge);
      await rec.client.endAsync();
      await hub.stop().catch(() => undefined);
      await broker.close();
    }
  });
});
