/**
 * The page's icons in the sizes browsers and phones ask for — PNGs, a multi-size favicon.ico and a
 * web app manifest — drawn from one description of Kuroko's mark (a black-clad stagehand's hood on
 * the stage's amber), the same shapes FAVICON_SVG draws. They are made in memory on first request
 * (no binary files in the repository, nothing to regenerate when the mark changes): a small
 * rasteriser with supersampled edges and a PNG/ICO writer on node:zlib.
 */
import { deflateSync } from 'node:zlib';

type Rgb = [number, number, number];
const AMBER: Rgb = [0xff, 0xd2, 0x3f];
const BLACK: Rgb = [0, 0, 0];

/** A shape of the mark in its 64×64 box: the spans [x0, x1] it covers on the row at height y. */
interface Shape { fill: Rgb; spans(y: number): [number, number][] }

function roundedRect(x0: number, y0: number, w: number, h: number, r: number, fill: Rgb): Shape {
  return {
    fill,
    spans(y) {
      if (y < y0 || y > y0 + h) return [];
      const dy = y < y0 + r ? y0 + r - y : y > y0 + h - r ? y - (y0 + h - r) : 0;
      const inset = r - Math.sqrt(Math.max(0, r * r - dy * dy));
      return [[x0 + inset, x0 + w - inset]];
    },
  };
}

function circle(cx: number, cy: number, r: number, fill: Rgb): Shape {
  return {
    fill,
    spans(y) {
      if (Math.abs(y - cy) > r) return [];
      const half = Math.sqrt(r * r - (y - cy) ** 2);
      return [[cx - half, cx + half]];
    },
  };
}

/** A closed outline of cubic Béziers, flattened to a polygon (even-odd rule). */
function cubicOutline(start: [number, number], curves: [number, number][][], fill: Rgb): Shape {
  const pts: [number, number][] = [start];
  let p0 = start;
  for (const [p1, p2, p3] of curves as [[number, number], [number, number], [number, number]][]) {
    for (let i = 1; i <= 48; i++) {
      const t = i / 48, u = 1 - t;
      pts.push([
        u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0],
        u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1],
      ]);
    }
    p0 = p3;
  }
  return {
    fill,
    spans(y) {
      const xs: number[] = [];
      for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
        const [xi, yi] = pts[i]!, [xj, yj] = pts[j]!;
        if ((yi > y) !== (yj > y)) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
      }
      xs.sort((a, b) => a - b);
      const out: [number, number][] = [];
      for (let k = 0; k + 1 < xs.length; k += 2) out.push([xs[k]!, xs[k + 1]!]);
      return out;
    },
  };
}

/**
 * The mark, painted in order (later shapes over earlier ones), as in FAVICON_SVG:
 * rect 64×64 rx 12 amber; hood path "M14 56c0-18 8-34 18-34s18 16 18 34z"; head circle (32,18) r 11;
 * eye slit rect 24,15 16×4 rx 2 amber.
 */
function markShapes(square: boolean): Shape[] {
  return [
    roundedRect(0, 0, 64, 64, square ? 0 : 12, AMBER),
    // The "s" curve's first control point is the reflection of the previous one: (42,22).
    cubicOutline([14, 56], [[[14, 38], [22, 22], [32, 22]], [[42, 22], [50, 38], [50, 56]]], BLACK),
    circle(32, 18, 11, BLACK),
    roundedRect(24, 15, 16, 4, 2, AMBER),
  ];
}

/**
 * The mark as RGBA pixels, size×size, each pixel the average of ss×ss samples. `square`: no rounded
 * corners, no transparency (iOS puts its own corners on a touch icon and fills transparent ones black).
 */
export function renderMark(size: number, square = false): Uint8Array {
  const shapes = markShapes(square);
  const ss = size <= 48 ? 8 : 4;
  const n = size * ss;
  const scale = 64 / n;
  // Sums per pixel: r, g, b over covered samples, and the count of covered samples.
  const acc = new Float64Array(size * size * 4);
  for (let sy = 0; sy < n; sy++) {
    const uy = (sy + 0.5) * scale;
    const rows = shapes.map((s) => s.spans(uy));
    for (let sx = 0; sx < n; sx++) {
      const ux = (sx + 0.5) * scale;
      let fill: Rgb | null = null;
      shapes.forEach((s, k) => { if (rows[k]!.some(([a, b]) => ux >= a && ux <= b)) fill = s.fill; });
      if (!fill) continue;
      const i = (Math.floor(sy / ss) * size + Math.floor(sx / ss)) * 4;
      const f: Rgb = fill;
      acc[i] += f[0]; acc[i + 1] += f[1]; acc[i + 2] += f[2]; acc[i + 3]++;
    }
  }
  const px = new Uint8Array(size * size * 4);
  for (let i = 0; i < px.length; i += 4) {
    const a = acc[i + 3]!;
    // Colour averaged over the covered samples (straight alpha, as PNG wants), coverage as alpha.
    if (a) { px[i] = Math.round(acc[i]! / a); px[i + 1] = Math.round(acc[i + 1]! / a); px[i + 2] = Math.round(acc[i + 2]! / a); }
    px[i + 3] = Math.round((a / (ss * ss)) * 255);
  }
  return px;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** An RGBA image as a PNG file (8-bit RGBA, no filtering: these are small). */
export function encodePng(rgba: Uint8Array, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc(height * (width * 4 + 1));
  for (let y = 0; y < height; y++) rows.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (width * 4 + 1) + 1);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A .ico holding PNG images (every browser since IE 11 reads PNG entries). */
export function encodeIco(images: { size: number; png: Buffer }[]): Buffer {
  const head = Buffer.alloc(6 + 16 * images.length);
  head.writeUInt16LE(0, 0);
  head.writeUInt16LE(1, 2); // type: icon
  head.writeUInt16LE(images.length, 4);
  let offset = head.length;
  images.forEach(({ size, png }, i) => {
    const e = 6 + 16 * i;
    head.writeUInt8(size >= 256 ? 0 : size, e);
    head.writeUInt8(size >= 256 ? 0 : size, e + 1);
    head.writeUInt16LE(1, e + 4); // colour planes
    head.writeUInt16LE(32, e + 6); // bits per pixel
    head.writeUInt32LE(png.length, e + 8);
    head.writeUInt32LE(offset, e + 12);
    offset += png.length;
  });
  return Buffer.concat([head, ...images.map((x) => x.png)]);
}

/** Sizes in favicon.ico: the tab (16), the taskbar and high-DPI tabs (32), Windows' site tiles (48). */
export const ICO_SIZES = [16, 32, 48];

/** Every icon file the hub serves besides /favicon.svg: path → size (and whether it is square). */
export const ICON_FILES: Record<string, { size: number; square?: boolean }> = {
  '/favicon-16.png': { size: 16 },
  '/favicon-32.png': { size: 32 },
  '/apple-touch-icon.png': { size: 180, square: true }, // iOS asks for this path even unlinked
  '/icon-192.png': { size: 192 }, // Android home screen (the manifest)
  '/icon-512.png': { size: 512 }, // Android splash screen (the manifest)
};

export const MANIFEST = `${JSON.stringify({
  name: 'Kuroko — stage manager',
  short_name: 'Kuroko',
  start_url: '/',
  display: 'standalone',
  background_color: '#000000',
  theme_color: '#ffd23f',
  icons: [
    { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
    { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
    { src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml' },
  ],
}, null, 2)}\n`;

const made = new Map<string, Buffer>();

/** The body of an icon path (made once, then kept), or null when the path is not an icon. */
export function iconFile(path: string): { type: string; body: Buffer } | null {
  if (path === '/favicon.ico') {
    if (!made.has(path)) made.set(path, encodeIco(ICO_SIZES.map((size) => ({ size, png: encodePng(renderMark(size), size, size) }))));
    return { type: 'image/x-icon', body: made.get(path)! };
  }
  const f = ICON_FILES[path];
  if (!f) return null;
  if (!made.has(path)) made.set(path, encodePng(renderMark(f.size, f.square), f.size, f.size));
  return { type: 'image/png', body: made.get(path)! };
}
