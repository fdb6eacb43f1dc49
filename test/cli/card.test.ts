/**
 * `kuroko card import|export` and `kuroko validate` on cards, through the real CLI: a JSON card
 * and a PNG card (its "chara" tEXt chunk) join the cast, unknown keys round-trip, and a missing or
 * broken card is refused naming the card file and the cast entry at its line.
 */
import { describe, it, expect, beforeEach } from 'vitest';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { kuroko, kurokoHere, ROOT } from './run-cli.ts';
import { loadCast } from '../../hub/ensemble/runtime.ts';
import { loadShow } from '../../hub/show/load.ts';

const CARD = {
  spec: 'chara_card_v2', spec_version: '2.0',
  data: {
    name: 'Seraphina', description: 'A guardian of the forest glade.', personality: 'gentle, protective', scenario: '',
    first_mes: 'Welcome, traveller.', mes_example: '', creator_notes: 'by someone', system_prompt: '', post_history_instructions: '',
    alternate_greetings: ['Hello!'], tags: ['fantasy'], creator: 'x', character_version: '1',
    extensions: { depth_prompt: { depth: 4, prompt: 'keep calm' }, fav: true, kuroko: { voice: 'en-gb', gestures: { nod: 'bow' } } },
    mystery_field: [1, 2, 3],
  },
  top_level_unknown: { a: 1 },
};

// A real (1×1) PNG with the card in a tEXt chunk, as SillyTavern writes it.
const crcTable = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
const crc32 = (b: Buffer) => { let c = 0xffffffff; for (const x of b) c = crcTable[(c ^ x) & 0xff]! ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function pngWithCard(card: object): Buffer {
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('tEXt', Buffer.concat([Buffer.from('chara\0', 'latin1'), Buffer.from(Buffer.from(JSON.stringify(card)).toString('base64'), 'latin1')])),
    chunk('IDAT', deflateSync(Buffer.from([0, 0]))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

let dir: string;
let show: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kuroko-card-'));
  show = join(dir, 'show.yaml');
  copyFileSync(join(ROOT, 'hub/shows/blade.yaml'), show);
});

describe('kuroko card', () => {
  it('imports a PNG card into the cast, and exports it with every unknown key intact', async () => {
    writeFileSync(join(dir, 'Seraphina.png'), pngWithCard(CARD));
    const before = readFileSync(show, 'utf8');
    const imp = kuroko(['card', 'import', join(dir, 'Seraphina.png'), '--show', show]);
    expect(imp.stderr).toBe('');
    expect(imp.code).toBe(0);
    expect(imp.stdout).toContain('added "seraphina" (Seraphina)');
    // The show file is edited as text: everything before stays byte for byte (comments too).
    const after = readFileSync(show, 'utf8');
    expect(after.replace('  - { id: seraphina, name: "Seraphina", node: seraphina, card: "cards/seraphina.json" }\n', '')).toBe(before);
    // The character is in the cast, with its persona from the card.
    const loaded = loadShow(show);
    const sera = loadCast(loaded, show).find((c) => c.id === 'seraphina')!;
    expect(sera.persona.description).toBe('A guardian of the forest glade.');
    expect(sera.voice).toBe('en-gb');
    expect((await kurokoHere(['validate', show])).code).toBe(0);

    const out = join(dir, 'out.json');
    const exp = await kurokoHere(['card', 'export', 'seraphina', '--show', show, '-o', out]);
    expect(exp.code).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(CARD);
  });

  it('imports a JSON card under another id and node; refuses a taken id', async () => {
    writeFileSync(join(dir, 'sera.json'), JSON.stringify(CARD));
    expect((await kurokoHere(['card', 'import', join(dir, 'sera.json'), '--show', show, '--id', 'guard', '--node', 'guard-bot'])).code).toBe(0);
    expect(loadShow(show).cast.at(-1)).toMatchObject({ id: 'guard', name: 'Seraphina', node: 'guard-bot', card: 'cards/guard.json' });
    const again = await kurokoHere(['card', 'import', join(dir, 'sera.json'), '--show', show, '--id', 'kenzaki']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already has "kenzaki"; pass --id NEW-ID');
  });

  it('exports a cast member that has no card as a new card', async () => {
    const r = await kurokoHere(['card', 'export', 'kenzaki', '--show', show]);
    expect(r.code).toBe(0);
    const card = JSON.parse(r.stdout);
    expect(card.spec).toBe('chara_card_v2');
    expect(card.data.name).toBe('Kenzaki');
    expect(card.data.description).toContain('Decides fast');
  });

  it('refuses a PNG without a card, naming the file', async () => {
    const png = pngWithCard(CARD);
    writeFileSync(join(dir, 'plain.png'), Buffer.concat([png.subarray(0, 33), png.subarray(png.indexOf('IDAT') - 4)]));
    const r = await kurokoHere(['card', 'import', join(dir, 'plain.png'), '--show', show]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, 'plain.png')} has no character card in it`);
  });
});

describe('kuroko validate and the cards a show names', () => {
  const withCard = (card: string) => readFileSync(show, 'utf8').replace('  - id: tachibana\n', `  - id: tachibana\n    card: ${card}\n`);

  it('refuses a missing card, naming the card file and the cast entry at its line', async () => {
    writeFileSync(show, withCard('cards/nobody.json'));
    const r = await kurokoHere(['validate', show]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`${show}:\\d+:\\d+ cast\\[1\\]\\.card: the card of cast entry "tachibana", cards/nobody\\.json .* does not exist`));
    expect(r.stderr).toContain('kuroko card import FILE --show');
  });

  it('refuses a card without data.name, naming the file and the cast entry; the hub says the same at run time', async () => {
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ spec: 'chara_card_v2', spec_version: '2.0', data: { description: 'no name' } }));
    writeFileSync(show, withCard('broken.json'));
    const r = await kurokoHere(['validate', show]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cast\[1\]\.card: the card of cast entry "tachibana" is invalid: card file .*broken\.json is not a usable card: card\.data\.name is missing/);
    expect(() => loadCast(loadShow(show), show)).toThrow(/cast entry "tachibana" of .*show\.yaml: card file .*broken\.json is not a usable card/);
  });
});
