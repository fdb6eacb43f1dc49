/**
 * Kana for the node's own Japanese lines. Lines from the hub arrive with their reading (the hub
 * runs kuromoji); the node's ad-libs do not, and kuromoji's dictionary (~385 MB RSS) is far too
 * big for a small board. MeCab with IPADIC from Debian (`apt install mecab mecab-ipadic-utf8`)
 * reads a line in a short-lived child process: ~19 MB RSS for ~70 ms, nothing kept resident.
 * Without MeCab the kanji are dropped, never spoken as "Chinese letter".
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const HAN = /[\u3400-\u9fff\uf900-\ufaff々〆]/g;
const HAS_HAN = /[\u3400-\u9fff\uf900-\ufaff々〆]/;
export const JAPANESE = /[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]/;

/** IPADIC folders Debian (and a source build) install; the pronunciation is its 9th feature. */
const IPADIC_DIRS = ['/var/lib/mecab/dic/ipadic-utf8', '/usr/lib/x86_64-linux-gnu/mecab/dic/ipadic-utf8', '/usr/lib/aarch64-linux-gnu/mecab/dic/ipadic-utf8', '/usr/local/lib/mecab/dic/ipadic'];

export function ipadicDir(): string | null {
  return IPADIC_DIRS.find((d) => existsSync(`${d}/sys.dic`)) ?? null;
}

/** The katakana pronunciation of a line by MeCab + IPADIC; null when either is missing or fails. */
export function mecabReading(text: string, o: { binary?: string; dicdir?: string; timeoutMs?: number } = {}): Promise<string | null> {
  const dic = o.dicdir ?? ipadicDir();
  if (!dic) return Promise.resolve(null);
  return new Promise((resolve) => {
    // Text on stdin, never as an argument; one line in, one line out.
    const child = spawn(o.binary ?? 'mecab', ['-d', dic, '-F', '%f[8]', '-U', '%m', '-E', '\\n'], { stdio: ['pipe', 'pipe', 'ignore'], timeout: o.timeoutMs ?? 3000 });
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString('utf8'); });
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code === 0 && out.trim() ? out.replace(/\n/g, '').replace(HAN, '') : null));
    child.stdin.on('error', () => undefined);
    child.stdin.end(text.replace(/\n/g, ' '));
  });
}

/** What a Japanese voice should say for `text`: the given reading, else MeCab's, else the text without kanji. */
export async function speakableJapanese(text: string, reading?: string): Promise<{ say: string; via: 'hub' | 'mecab' | 'stripped' | 'kana' }> {
  if (reading) return { say: reading.replace(HAN, ''), via: 'hub' };
  if (!HAS_HAN.test(text)) return { say: text, via: 'kana' };
  const m = await mecabReading(text);
  if (m) return { say: m, via: 'mecab' };
  return { say: text.replace(HAN, ''), via: 'stripped' };
}
