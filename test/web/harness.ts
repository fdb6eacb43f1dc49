/**
 * A real stage for the web tests: the hub in this process with its embedded broker on a free
 * port, one edge node child process per cast member (as `kuroko demo` runs them), the web server,
 * and Debian's chromium driven by playwright-core.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { chromium, type Browser } from 'playwright-core';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { startWebServer, type WebServer } from '../../hub/web/server.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.KUROKO_CHROMIUM ?? '/usr/bin/chromium';
export const TOKEN = 'test-token-0123456789';

export interface Stage {
  hub: Hub;
  web: WebServer;
  nodes: ChildProcess[];
  /** What the nodes wrote to stderr, for failure messages. */
  nodeLog(): string;
  close(): Promise<void>;
}

export async function startStage(showFile = join(ROOT, 'test/web/fixtures/stage.yaml')): Promise<Stage> {
  const show = loadShow(showFile);
  const journalDir = mkdtempSync(join(tmpdir(), 'kuroko-web-'));
  const hub = new Hub({ show, port: 0, journalDir, logger: pino({ level: 'silent' }) });
  await hub.start();
  const web = await startWebServer(hub, { port: 0, host: '127.0.0.1', token: TOKEN, readOnlyView: true });
  let log = '';
  const nodes = show.cast.map((c) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/kuroko.js'), 'edge', '--show', show.show, '--node', c.node, '--character', c.id,
      // No local model: these tests count lines exactly, and an ad-lib (a late line on a busy machine) would add one.
      '--no-model', '--profile', join(ROOT, 'firmware-config/profiles/sim-robot.yaml'), '--broker', hub.brokerUrl, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KUROKO_LOG_FORMAT: 'json' } });
    child.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
    return child;
  });
  return {
    hub, web, nodes,
    nodeLog: () => log.slice(-4000),
    async close() {
      for (const n of nodes) if (n.exitCode === null && n.signalCode === null) n.kill('SIGTERM');
      await Promise.all(nodes.map((n) => (n.exitCode !== null || n.signalCode !== null) ? undefined : new Promise((r) => n.once('exit', r))));
      await web.close();
      await hub.stop();
      rmSync(journalDir, { recursive: true, force: true });
    },
  };
}

/** Waits until every cast node has heard the hub (state ready), or fails naming the missing ones. */
export async function waitForNodes(stage: Stage, timeoutMs = 120000): Promise<void> {
  const by = Date.now() + timeoutMs;
  const ids = stage.hub.o.show.cast.map((c) => c.node);
  for (;;) {
    const notReady = ids.filter((id) => stage.hub.registry.get(id)?.state !== 'ready');
    if (!notReady.length) return;
    if (Date.now() > by) throw new Error(`nodes not ready within ${timeoutMs} ms: ${notReady.map((id) => `${id} (${stage.hub.registry.get(id)?.state})`).join(', ')}\n${stage.nodeLog()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Debian's chromium, headless; missing chromium is a failure (CI installs it), never a skip. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium not found at ${CHROMIUM}: the web page tests need it (Debian: apt-get install chromium; or set KUROKO_CHROMIUM to its path)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
