/**
 * The stage manager's page in a real browser against a real stage: the hub in this process, edge
 * nodes as child processes, chromium driven by playwright-core. The tests run in order on one
 * stage (arm, scene, GO, curator, show mode, E-STOP), as an operator would.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { startStage, waitForNodes, launchChromium, TOKEN, type Stage } from './harness.ts';
import { startWebServer } from '../../hub/web/server.ts';

const ARTIFACTS = 'test-artifacts';
let stage: Stage;
let browser: Browser;
let page: Page;

const cards = () => page.locator('article.node');
async function statesOnPage(): Promise<string[]> {
  return cards().evaluateAll((els) => els.map((e) => e.getAttribute('data-state') ?? ''));
}
async function expectAllStates(state: string): Promise<void> {
  await expect.poll(statesOnPage, { timeout: 10000 }).toEqual([state, state, state, state]);
}

beforeAll(async () => {
  // Start the browser while the nodes boot: both take seconds on a busy machine.
  const [s, b] = await Promise.allSettled([startStage(), launchChromium()]);
  // Keep whatever started, so afterAll stops it even when the other failed.
  if (s.status === 'fulfilled') stage = s.value;
  if (b.status === 'fulfilled') browser = b.value;
  if (b.status === 'rejected') throw b.reason;
  if (s.status === 'rejected') throw s.reason;
  await waitForNodes(stage);
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
}, 150000); // generous: the machine is shared, and four node processes start at once

afterAll(async () => {
  await browser?.close();
  await stage?.close();
}, 30000);

describe('the stage manager page', () => {
  it('shows every node, arms them, starts a scene and performs a line on GO (space)', async () => {
    await page.goto(stage.web.pageUrl);
    await expect.poll(() => page.locator('#role').textContent()).toBe('operator');
    // The token was exchanged for a cookie: it is gone from the address.
    expect(page.url()).toBe(`${stage.web.url}/`);
    expect(await page.locator('#show-title').textContent()).toBe('The Page Test');
    await expectAllStates('ready');
    expect(await page.locator('[data-node="alice"] .who').textContent()).toBe('Alice');

    // How soon the page shows "armed" after the first node's state changed at the hub.
    let armedAtHub = 0;
    const onState = (n: { state: string }) => { if (n.state === 'armed' && !armedAtHub) armedAtHub = Date.now(); };
    stage.hub.on('node-state', onState);
    await page.click('#arm');
    await expectAllStates('armed');
    stage.hub.off('node-state', onState);
    await expect.poll(() => page.locator('#show-status').textContent()).toContain(' · armed');
    const armedAtPage = Number(await page.locator('body').getAttribute('data-armed-at'));
    console.log(`armed state on the page ${armedAtPage - armedAtHub} ms after the first node's state change at the hub`);
    // Two processes' clocks (chromium keeps its own calibration of the wall clock): a few ms of skew are not an ordering error.
    expect(armedAtPage).toBeGreaterThanOrEqual(armedAtHub - 20);
    await expect.poll(() => page.locator('#message').textContent()).toContain('armed: alice');

    await page.selectOption('#scene-select', 'one');
    await page.click('#scene-start');
    // The scene's first cue fires on start; the line waits on standby with its notes.
    await expect.poll(() => page.locator('#standby-cue').textContent(), { timeout: 10000 }).toContain('s2');
    expect(await page.locator('#standby-notes').textContent()).toBe('Standby: Alice greets the house');
    expect(await page.locator('#cue-list li.standby').getAttribute('data-cue')).toBe('s2');

    // The hub's minimum GO interval (0.2 s in this show) counts from the scene's first cue.
    await page.waitForTimeout(300);
    await page.locator('#go').blur();
    await page.keyboard.press('Space');
    const text = 'Good evening, and welcome to the test of the stage page.';
    await expect.poll(() => page.locator('#now-line').textContent(), { timeout: 10000 }).toContain(text);
    expect(await page.locator('#now-line').textContent()).toContain('(joy)');
    expect(await page.locator('#transcript').textContent()).toContain(text);
    // Alice's card shows her speaking, and the standby moved on.
    expect(await page.locator('[data-node="alice"]').getAttribute('class')).toContain('speaking');
    expect(await page.locator('[data-node="alice"] .line').textContent()).toContain(text);
    await expect.poll(() => page.locator('#standby-cue').textContent()).toContain('s3');
    // Sensor readings and the cue-ack latency arrive too.
    await expect.poll(() => page.locator('[data-node="alice"] .sensors').textContent(), { timeout: 5000 }).toMatch(/front-distance \d+ cm/);
    await expect.poll(() => page.locator('[data-node="alice"] .facts').textContent(), { timeout: 5000 }).toMatch(/ack \d+ ms/);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/stage-page.png`, fullPage: true });
    // A tablet held upright gets one column, with E-STOP still on screen.
    await page.setViewportSize({ width: 768, height: 1024 });
    expect((await page.locator('#estop').boundingBox())!.y).toBeLessThan(1024);
    await page.screenshot({ path: `${ARTIFACTS}/stage-page-tablet.png` });
    await page.setViewportSize({ width: 1280, height: 900 });
  }, 40000);

  it('GO is debounced: a double press fires one cue', async () => {
    // s3 is on standby; two presses 50 ms apart must fire it once, not skip past the end.
    await page.waitForTimeout(300);
    const before = stage.hub.transcript.length;
    await page.click('#go');
    await page.click('#go', { delay: 0 });
    await expect.poll(() => stage.hub.transcript.length, { timeout: 10000 }).toBe(before + 1);
    await page.waitForTimeout(400);
    expect(stage.hub.transcript.at(-1)!.text).toBe('Thank you, Alice.');
    expect(stage.hub.playback.snapshot().standby).toBeNull();
    // The second press never reached the hub (it would have answered "GO ignored").
    const log = await page.locator('#log').textContent();
    expect(log).toContain('go: GO: cue s3');
    expect(log).not.toContain('GO ignored');
  }, 20000);

  it('curator mode previews a line; the operator approves it before the countdown ends', async () => {
    await page.click('#curator-toggle');
    await expect.poll(() => stage.hub.curator.enabled).toBe(true);
    const decision = stage.hub.curator.submit({ character: 'bob', text: 'A generated line for Bob.', emotion: 'curious', deadlineMs: 20000 });
    await expect.poll(() => page.locator('#curator').isVisible()).toBe(true);
    expect(await page.locator('.curate .text').textContent()).toBe('A generated line for Bob.');
    expect(await page.locator('.curate .speaker').textContent()).toContain('Bob');
    expect(await page.locator('.curate .secs').textContent()).toMatch(/auto-approve in \d+ s/);
    await page.click('.curate button.approve');
    await expect(decision).resolves.toBe('approved');
    await expect.poll(() => page.locator('#curator').isVisible()).toBe(false);

    const vetoed = stage.hub.curator.submit({ character: 'bob', text: 'Another one.', deadlineMs: 20000 });
    await page.click('.curate button.veto');
    await expect(vetoed).resolves.toBe('vetoed');
  }, 20000);

  it('show mode locks the setup controls and keeps GO, stop and E-STOP', async () => {
    await page.click('#show-mode');
    await expect.poll(() => page.locator('#curator-toggle').isDisabled()).toBe(true);
    expect(await page.locator('#scene-select').isDisabled()).toBe(true);
    expect(await page.locator('#go').isDisabled()).toBe(false);
    expect(await page.locator('#stop').isDisabled()).toBe(false);
    expect(await page.locator('#estop').isDisabled()).toBe(false);
    // The hub refuses a scene jump in show mode even from a page that would send one.
    const r = await page.evaluate(async (token) => {
      // The session cookie goes with it; the token is not needed (nor accepted) on the socket.
      void token;
      const ws = new WebSocket(`ws://${location.host}/ws`);
      await new Promise((res) => { ws.onopen = res; });
      ws.send(JSON.stringify({ type: 'command', command: 'scene/start', args: { scene: 'one' }, ref: 1 }));
      return new Promise<{ ok: boolean; message: string }>((res) => { ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.type === 'reply') res(m); }; });
    }, TOKEN);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('show mode');
    expect(stage.hub.curator.enabled).toBe(true);
    // Next scene stays available, and so does the next-speaker override.
    expect(await page.locator('#next-scene').textContent()).toContain('two');
    await page.selectOption('#next-speaker', 'carol');
    await page.click('#next-speaker-set');
    await expect.poll(() => stage.hub.nextSpeaker.current).toBe('carol');
    await expect.poll(() => page.locator('#message').textContent()).toBe('next speaker: carol');
  }, 20000);

  it('E-STOP (in the header, which never scrolls) stops every node', async () => {
    const box = await page.locator('#estop').boundingBox();
    expect(box!.width).toBeGreaterThan(150);
    expect(await page.locator('#estop').evaluate((e) => !!e.closest('header.top'))).toBe(true);
    await page.click('#estop');
    await expectAllStates('estopped');
    expect(await page.locator('body').getAttribute('class')).toContain('estop-active');
    expect(await page.locator('[data-node="bob"] .state').textContent()).toBe('e-stopped');
    expect(stage.hub.estopActive).toBe(true);
    await page.screenshot({ path: `${ARTIFACTS}/stage-page-estop.png` });

    await page.click('#release');
    await expectAllStates('ready');
    expect(stage.hub.estopActive).toBe(false);
  }, 20000);

  it('a page that has not logged in can watch (--read-only-view) but has no control surface', async () => {
    const viewer = await browser.newPage();
    try {
      await viewer.goto(stage.web.url + '/');
      await expect.poll(() => viewer.locator('#role').textContent()).toBe('read-only view');
      await expect.poll(() => viewer.locator('article.node').count()).toBe(4);
      for (const id of ['#go', '#stop', '#arm', '#estop', '#release', '#scene-start', '#show-mode']) expect(await viewer.locator(id).isVisible(), id).toBe(false);
      // Its socket cannot act either: the hub refuses, whatever the page sends.
      const r = await viewer.evaluate(async () => {
        const ws = new WebSocket(`ws://${location.host}/ws`);
        await new Promise((res) => { ws.onopen = res; });
        ws.send(JSON.stringify({ type: 'command', command: 'estop', ref: 1 }));
        return new Promise<{ ok: boolean; message: string }>((res) => { ws.onmessage = (e) => { const m = JSON.parse(e.data); if (m.type === 'reply') res(m); }; });
      });
      expect(r.ok).toBe(false);
      expect(r.message).toContain('read-only view');
      expect(stage.hub.estopActive).toBe(false);
      // A wrong token in the address is said to be wrong, and logs nobody in.
      await viewer.goto(stage.web.url + '/?token=not-the-token');
      await expect.poll(() => viewer.locator('#refused').textContent()).toContain('not right');
      expect(viewer.url()).toBe(`${stage.web.url}/`);
      await expect.poll(() => viewer.locator('#role').textContent()).toBe('read-only view');
    } finally {
      await viewer.close();
    }
  }, 20000);

  it('without --read-only-view a page shows nothing but the log-in form until it logs in', async () => {
    const strict = await startWebServer(stage.hub, { port: 0, host: '127.0.0.1', token: TOKEN, readOnlyView: false });
    const p = await browser.newPage();
    try {
      await p.goto(strict.url + '/');
      await expect.poll(() => p.locator('#login').isVisible()).toBe(true);
      expect(await p.locator('#refused').textContent()).toContain('Log in');
      expect(await p.locator('article.node').count()).toBe(0);
      for (const id of ['#go', '#estop', '#arm', '#app']) expect(await p.locator(id).isVisible(), id).toBe(false);
      expect((await fetch(`${strict.url}/transcript.srt`)).status).toBe(401);
      await p.fill('#login-token', 'wrong-token-xyz');
      await p.click('#login-submit');
      await expect.poll(() => p.locator('#login-error').textContent()).toContain('not right');
      await p.fill('#login-token', TOKEN);
      await p.click('#login-submit');
      await expect.poll(() => p.locator('#role').textContent()).toBe('operator');
      expect(await p.locator('#go').isVisible()).toBe(true);
      expect(p.url()).not.toContain(TOKEN);
    } finally {
      await p.close();
      await strict.close();
    }
  }, 20000);

  it('says so when the hub goes away, and the page reconnects when it is back', async () => {
    const own = await startWebServer(stage.hub, { port: 0, host: '127.0.0.1', token: TOKEN });
    const port = own.port;
    const p = await browser.newPage();
    try {
      await p.goto(own.pageUrl);
      await expect.poll(() => p.locator('#conn').textContent()).toBe('live');
      expect(await p.locator('#offline').isVisible()).toBe(false);
      await own.close();
      await expect.poll(() => p.locator('#offline').isVisible()).toBe(true);
      await p.click('#go');
      await expect.poll(() => p.locator('#message').textContent()).toContain('not connected');
      const again = await startWebServer(stage.hub, { port, host: '127.0.0.1', token: TOKEN });
      try {
        await expect.poll(() => p.locator('#conn').textContent(), { timeout: 10000 }).toBe('live');
        expect(await p.locator('#offline').isVisible()).toBe(false);
      } finally {
        await again.close();
      }
    } finally {
      await p.close();
    }
  }, 30000);

  it('takes a free port when the default one is taken, and fails on a taken port that was asked for', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const moved = await startWebServer(stage.hub, { port: taken, host: '127.0.0.1', token: TOKEN, portFallback: true });
      expect(moved.fellBack).toBe(true);
      expect(moved.port).not.toBe(taken);
      await moved.close();
      await expect(startWebServer(stage.hub, { port: taken, host: '127.0.0.1', token: TOKEN })).rejects.toThrow(`port ${taken} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('serves the transcript as .srt', async () => {
    const login = await fetch(`${stage.web.url}/login`, { method: 'POST', headers: { origin: stage.web.url, 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    const res = await fetch(`${stage.web.url}/transcript.srt`, { headers: { cookie: login.headers.get('set-cookie')!.split(';')[0]! } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('webtest.srt');
    const srt = await res.text();
    expect(srt).toMatch(/^1\r?\n\d\d:\d\d:\d\d,\d{3} --> /);
    expect(srt).toContain('Alice: Good evening, and welcome to the test of the stage page.');
    expect(srt).toContain('Bob: Thank you, Alice.');
  });

  it('/metrics scrapes with the hub, node and model metrics', async () => {
    const res = await fetch(`${stage.web.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    for (const name of [
      'kuroko_model_requests_total', 'kuroko_model_request_duration_seconds', 'kuroko_model_tokens_per_second',
      'kuroko_cue_ack_latency_seconds_bucket', 'kuroko_dead_air_seconds_bucket', 'kuroko_nodes_online',
      'kuroko_estop_events_total', 'kuroko_node_restarts_total', 'kuroko_node_faults_total', 'kuroko_rejected_messages_total',
      'kuroko_process_errors_total', 'kuroko_hub_process_resident_memory_bytes', 'kuroko_node_resident_memory_bytes',
      'kuroko_node_sensor_value', 'kuroko_gpu_utilization_ratio', 'kuroko_network_receive_bytes_total',
    ]) expect(body, name).toContain(name);
    expect(body).toMatch(/^kuroko_nodes_online 4$/m);
    expect(body).toMatch(/^kuroko_estop_events_total 1$/m);
    expect(body).toMatch(/^kuroko_cue_ack_latency_seconds_count\{node="alice"\} [1-9]/m);
    // Two lines in one scene: one dead-air gap measured (the GO after the first line).
    expect(body).toMatch(/^kuroko_dead_air_seconds_count 1$/m);
    expect(body).toMatch(/^kuroko_node_resident_memory_bytes\{node="bob"\} \d{7,}/m);
    expect(body).toMatch(/^kuroko_node_sensor_value\{node="carol",sensor="front-distance",unit="cm"\} \d+/m);
    expect(body).toMatch(/^kuroko_network_receive_bytes_total\{interface="lo"\} \d+/m);
    // Every metric the sample Grafana dashboard queries is one the hub exports.
    const dashboard = readFileSync('deploy/grafana/kuroko-dashboard.json', 'utf8');
    const queried = new Set([...dashboard.matchAll(/kuroko_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
    const exported = new Set([...body.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    expect([...queried].filter((n) => !exported.has(n))).toEqual([]);
  });

  it('every control is reachable and unobscured at 1400×900, 1000×600 and a portrait tablet (768×1024), and each click works', async () => {
    // Runs last: it really presses everything, E-STOP included.
    page.on('dialog', (d) => void d.accept()); // leaving show mode asks first
    if (await page.locator('#show-mode').isChecked()) await page.click('#show-mode');
    await expect.poll(() => page.locator('#curator-toggle').isDisabled()).toBe(false);
    const controls = ['#go', '#stop', '#arm', '#disarm', '#scene-select', '#scene-start', '#next-scene', '#next-speaker', '#next-speaker-set',
      '#curator-toggle', '#curator-toggle', '#show-mode', '#show-mode', '#srt', '#estop', '#release', '#logout'];
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const [width, height] of [[1400, 900], [1000, 600], [768, 1024]] as const) {
      await page.setViewportSize({ width, height });
      for (const id of controls) {
        const loc = page.locator(id);
        await loc.scrollIntoViewIfNeeded();
        // Unobscured: what the browser finds at the control's centre is the control itself.
        const where = await loc.evaluate((e) => {
          const r = e.getBoundingClientRect();
          const x = r.left + r.width / 2;
          const y = r.top + r.height / 2;
          const hit = document.elementFromPoint(x, y);
          return { inView: x >= 0 && y >= 0 && x <= innerWidth && y <= innerHeight, hitsItself: !!hit && (hit === e || e.contains(hit)), hit: hit ? `${hit.tagName}#${hit.id}.${hit.className}` : null };
        });
        expect(where, `${id} at ${width}×${height}`).toMatchObject({ inView: true, hitsItself: true });
        // Scene one first, so "Next scene" (two) is there to press; it then starts scene two.
        if (id === '#scene-select') await page.selectOption(id, 'one');
        else if (id === '#next-speaker') await page.selectOption(id, 'dave');
        else if (id === '#logout') await loc.click({ trial: true }); // pressing it would end this page's session
        else if (id === '#srt') await loc.click({ trial: true }); // a download
        else {
          await loc.click({ timeout: 10000 }).catch((e: Error) => { throw new Error(`${id} at ${width}×${height}: ${e.message.split('\n')[0]}`); });
          // Wait for the hub's answer to a press before the next (a disabled button means it is still in flight).
          if (id === '#scene-start') await expect.poll(() => page.locator('#next-scene').isEnabled()).toBe(true);
        }
      }
      await expect.poll(() => stage.hub.estopActive).toBe(false);
      await page.screenshot({ path: `${ARTIFACTS}/stage-page-${width}x${height}.png` });
    }
    // The presses reached the hub: the last size's E-STOP and release are in the page's event log.
    const log = await page.locator('#log').textContent();
    expect(log).toContain('estop: E-STOP');
    expect(log).toContain('release: e-stop released');
  }, 90000);
});
