/**
 * The page's icons, as a browser and a phone fetch them: chromium (driven by playwright-core) opens
 * the page of a real hub's web server, follows the page's <link> icons and the manifest, decodes
 * every PNG, and draws favicon.svg next to favicon-32.png to check they are the same mark. The
 * .ico file's directory is read here, byte by byte.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import getPort from 'get-port';
import type { Browser, Page } from 'playwright-core';
import { Hub } from '../../hub/hub.ts';
import { loadShow } from '../../hub/show/load.ts';
import { startWebServer, type WebServer } from '../../hub/web/server.ts';
import { launchChromium } from './harness.ts';

let hub: Hub;
let web: WebServer;
let browser: Browser;
let page: Page;
let journalDir: string;

beforeAll(async () => {
  journalDir = mkdtempSync(join(tmpdir(), 'kuroko-web-icons-'));
  hub = new Hub({ show: loadShow('test/web/fixtures/stage.yaml'), port: await getPort(), journalDir, logger: pino({ level: 'silent' }) });
  await hub.start();
  web = await startWebServer(hub, { port: 0, host: '127.0.0.1', token: 'icons-token-0123456789' });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  // No log-in: the icons are there for the log-in page too (a tab or home-screen icon before log-in).
  await page.goto(`${web.url.replace('localhost', '127.0.0.1')}/`);
}, 60000);
afterAll(async () => {
  await browser?.close();
  await web?.close();
  await hub?.stop();
  rmSync(journalDir, { recursive: true, force: true });
}, 30000);

describe('the page icons', () => {
  it('the page links favicon.ico, the SVG, the touch icon and the manifest, and each answers', async () => {
    const links = await page.$$eval('link[rel~="icon"], link[rel="apple-touch-icon"], link[rel="manifest"]', (els) => els.map((e) => [e.getAttribute('rel'), e.getAttribute('href')]));
    expect(links).toEqual([['icon', '/favicon.ico'], ['icon', '/favicon.svg'], ['apple-touch-icon', '/apple-touch-icon.png'], ['manifest', '/manifest.webmanifest']]);
    const answers = await page.evaluate(async (hrefs) => Promise.all(hrefs.map(async (h) => {
      const r = await fetch(h);
      return [h, r.status, r.headers.get('content-type')];
    })), links.map((l) => l[1]!));
    expect(answers).toEqual([
      ['/favicon.ico', 200, 'image/x-icon'],
      ['/favicon.svg', 200, 'image/svg+xml'],
      ['/apple-touch-icon.png', 200, 'image/png'],
      ['/manifest.webmanifest', 200, 'application/manifest+json'],
    ]);
  });

  it('chromium decodes every PNG at its size, the touch icon opaque, the manifest\'s icons too', async () => {
    const manifest = await page.evaluate(async () => (await fetch('/manifest.webmanifest')).json()) as { icons: { src: string; sizes: string }[]; name: string };
    expect(manifest.name).toContain('Kuroko');
    const want: Record<string, number> = { '/favicon-16.png': 16, '/favicon-32.png': 32, '/apple-touch-icon.png': 180 };
    for (const i of manifest.icons.filter((x) => x.src.endsWith('.png'))) want[i.src] = Number(i.sizes.split('x')[0]);
    expect(Object.keys(want)).toEqual(expect.arrayContaining(['/icon-192.png', '/icon-512.png']));
    const got = await page.evaluate(async (srcs) => Promise.all(srcs.map(async (src) => {
      const img = new Image();
      img.src = src;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext('2d')!;
      g.drawImage(img, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let transparent = 0;
      for (let k = 3; k < d.length; k += 4) if (d[k]! < 255) transparent++;
      // The centre of the eye slit is the stage's amber, the hood around it black.
      const at = (x: number, y: number) => Array.from(g.getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data);
      return { src, w: img.naturalWidth, h: img.naturalHeight, transparent, slit: at(0.5, 17 / 64), hood: at(0.5, 45 / 64) };
    })), Object.keys(want));
    for (const g of got) {
      expect([g.src, g.w, g.h]).toEqual([g.src, want[g.src], want[g.src]]);
      if (g.w >= 32) {
        expect(g.hood.slice(0, 3)).toEqual([0, 0, 0]);
        expect(g.slit.slice(0, 3)).toEqual([0xff, 0xd2, 0x3f]);
      }
    }
    // iOS fills transparent pixels with black: the touch icon has none. The others have rounded, transparent corners.
    expect(got.find((g) => g.src === '/apple-touch-icon.png')!.transparent).toBe(0);
    expect(got.find((g) => g.src === '/icon-192.png')!.transparent).toBeGreaterThan(0);
  });

  it('favicon-32.png is the mark favicon.svg draws (chromium renders both at 32×32)', async () => {
    const diff = await page.evaluate(async () => {
      const pixels = async (src: string) => {
        const img = new Image(32, 32);
        img.src = src;
        await img.decode();
        const c = document.createElement('canvas');
        c.width = 32; c.height = 32;
        const g = c.getContext('2d')!;
        // On white, so transparent corners compare as what a tab shows.
        g.fillStyle = '#fff';
        g.fillRect(0, 0, 32, 32);
        g.drawImage(img, 0, 0, 32, 32);
        return g.getImageData(0, 0, 32, 32).data;
      };
      const [svg, png] = await Promise.all([pixels('/favicon.svg'), pixels('/favicon-32.png')]);
      let off = 0, sum = 0;
      for (let k = 0; k < svg.length; k += 4) {
        const d = Math.max(Math.abs(svg[k]! - png[k]!), Math.abs(svg[k + 1]! - png[k + 1]!), Math.abs(svg[k + 2]! - png[k + 2]!));
        sum += d;
        if (d > 96) off++;
      }
      return { off, mean: sum / (32 * 32) };
    });
    // Edges are anti-aliased a little differently (chromium's rasteriser vs ours), so a pixel may differ by
    // a few levels; a different shape (no eye slit: 16 pixels) would put pixels far off.
    console.log(`favicon-32.png vs favicon.svg at 32x32: mean difference ${diff.mean.toFixed(2)} levels, ${diff.off} pixels off by more than 96`);
    expect(diff.off).toBeLessThan(4);
  });

  it('favicon.ico holds 16, 32 and 48 px images, each a PNG of that size', async () => {
    const bytes = Buffer.from(await page.evaluate(async () => Array.from(new Uint8Array(await (await fetch('/favicon.ico')).arrayBuffer()))));
    expect(bytes.readUInt16LE(0)).toBe(0);
    expect(bytes.readUInt16LE(2)).toBe(1);
    const count = bytes.readUInt16LE(4);
    const entries = Array.from({ length: count }, (_, i) => {
      const e = 6 + 16 * i;
      const size = bytes.readUInt8(e), length = bytes.readUInt32LE(e + 8), offset = bytes.readUInt32LE(e + 12);
      const png = bytes.subarray(offset, offset + length);
      return { size, bpp: bytes.readUInt16LE(e + 6), signature: png.subarray(1, 4).toString('ascii'), width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
    });
    expect(entries).toEqual([16, 32, 48].map((s) => ({ size: s, bpp: 32, signature: 'PNG', width: s, height: s })));
    // And chromium takes the .ico as an image.
    const w = await page.evaluate(async () => { const img = new Image(); img.src = '/favicon.ico'; await img.decode(); return img.naturalWidth; });
    expect([16, 32, 48]).toContain(w);
  });
});
