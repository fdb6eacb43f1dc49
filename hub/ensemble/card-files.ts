/**
 * Character card files: JSON, or a PNG carrying the card in its `chara` tEXt chunk (base64 JSON, as
 * SillyTavern writes them). Reading one names the file in every error, and the show's cast entry
 * that refers to it, so a broken card is found before the show runs.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import type { ShowT } from '../show/schema.ts';
import { parseCard, CardError, type CardV2 } from './card.ts';
import type { Character } from './character.ts';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The card JSON text inside a PNG (tEXt or iTXt chunk "chara"). Throws CardError when there is none. */
export function pngCardText(png: Buffer, file: string): string {
  if (png.length < 8 || !png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new CardError(`${file} is not a PNG file`);
  let at = 8;
  while (at + 12 <= png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'tEXt' || type === 'iTXt') {
      const nul = data.indexOf(0);
      const keyword = data.toString('latin1', 0, nul);
      if (keyword === 'chara') {
        let text: Buffer;
        if (type === 'tEXt') text = data.subarray(nul + 1);
        else {
          // iTXt: keyword\0 compressed-flag method language\0 translated\0 text
          const compressed = data[nul + 1] === 1;
          let p = nul + 3;
          p = data.indexOf(0, p) + 1;
          p = data.indexOf(0, p) + 1;
          text = compressed ? inflateSync(data.subarray(p)) : data.subarray(p);
        }
        const raw = text.toString('latin1').trim();
        // SillyTavern stores base64; some tools store the JSON itself.
        return raw.startsWith('{') ? Buffer.from(raw, 'latin1').toString('utf8') : Buffer.from(raw, 'base64').toString('utf8');
      }
    }
    if (type === 'IEND') break;
    at += 12 + len;
  }
  throw new CardError(`${file} has no character card in it (no "chara" text chunk); export the card again from its editor as a PNG card or as JSON`);
}

/** Reads a card file (.json or .png) into the card object; throws CardError naming the file. */
export function readCardFile(file: string): { card: CardV2; character: Character; json: string } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CardError(`card file ${file} ${err.code === 'ENOENT' ? 'does not exist; check the path' : `cannot be read (${err.message})`}`);
  }
  const json = bytes.subarray(0, 8).equals(PNG_SIGNATURE) ? pngCardText(bytes, file) : bytes.toString('utf8');
  try {
    return { ...parseCard(json), json };
  } catch (e) {
    const why = e instanceof SyntaxError ? `is not valid JSON (${e.message})` : `is not a usable card: ${(e as Error).message}`;
    throw new CardError(`card file ${file} ${why}`);
  }
}

/** The card file of a cast entry, resolved against the show file's folder. */
export function cardPath(card: string, showFile?: string): string {
  return resolve(showFile ? dirname(showFile) : process.cwd(), card);
}

/**
 * Every cast entry's card, loaded: problems as "[cast.N.card] …" so the loader can place them at
 * the line of the `card:` field.
 */
export function cardProblems(show: ShowT, showFile: string): string[] {
  const out: string[] = [];
  show.cast.forEach((c, i) => {
    if (!c.card) return;
    const file = cardPath(c.card, showFile);
    if (!existsSync(file)) {
      out.push(`[cast.${i}.card] the card of cast entry "${c.id}", ${c.card} (${file}), does not exist: fix the path (relative to the show file) or add the card with: kuroko card import FILE --show ${showFile}`);
      return;
    }
    try {
      readCardFile(file);
    } catch (e) {
      out.push(`[cast.${i}.card] the card of cast entry "${c.id}" is invalid: ${(e as Error).message}`);
    }
  });
  return out;
}
