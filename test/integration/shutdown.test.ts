/**
 * Bounded shutdown of real processes: `kuroko hub` and `kuroko edge` leave within 2 s of SIGTERM,
 * with the broker there and with the broker gone (killed -9 under them).
 */
import { describe, it, expect } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUROKO, ROOT, spawnEdge } from '../helpers/stage.ts';
import { startMosquitto } from '../helpers/mosquitto.ts';
import { waitFor, sleep } from '../helpers/wait.ts';
import { recorder } from '../helpers/stage.ts';
import { filter } from '../../protocol/index.ts';

function spawnHub(brokerUrl: string): ChildProcess {
  return spawn(process.execPath, [KUROKO, 'hub', '--show', join(ROOT, 'test/fixtures/quick-show.yaml'), '--broker', brokerUrl,
    '--journal-dir', mkdtempSync(join(tmpdir(), 'kuroko-j-')), '--http-port', '0', '--log-level', 'warn'], { stdio: 'ignore' });
}

async function termTime(c: ChildProcess): Promise<number> {
  const t0 = Date.now();
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await exited;
  return Date.now() - t0;
}

describe('SIGTERM is answered within 2 s', () => {
  it.each([['with the broker there', false], ['with the broker gone', true]])('hub and edge, %s', async (_n, killBroker) => {
    const mosq = await startMosquitto();
    const rec = await recorder(mosq.url, [filter('quick', 'hubState'), filter('quick', 'nodeState')]);
    const hub = spawnHub(mosq.url);
    const edge = spawnEdge('quick', 'ann', mosq.url, ['--no-model']);
    try {
      await waitFor('hub and node online', () => rec.messages.some((m) => m.payload.includes('"online"')) && rec.messages.some((m) => m.payload.includes('"ready"')), 40000);
      await rec.client.endAsync();
      if (killBroker) { await mosq.kill('SIGKILL'); await sleep(300); }
      const [th, te] = await Promise.all([termTime(hub), termTime(edge)]);
      expect(th).toBeLessThan(2000);
      expect(te).toBeLessThan(2000);
    } finally {
      hub.kill('SIGKILL');
      edge.kill('SIGKILL');
      await mosq.stop();
    }
  });
});
