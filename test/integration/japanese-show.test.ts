/**
 * The Japanese sample show end to end, as a user runs it: `kuroko demo --show
 * hub/shows/tsukiyo.yaml --once` with four real edge nodes speaking through espeak-ng (the
 * sim-robot-espeak profile: real synthesis, a null sink where there is no sound card). Every
 * line is Japanese from the first to the last, no line carries a label, every line cue with
 * kanji carries its kana reading, and espeak-ng's phonemes for what the nodes say hold no
 * "Chinese letter".
 */
import { describe, it, expect } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { recorder, waitFor, KUROKO, ROOT } from '../helpers/stage.ts';
import { filter } from '../../protocol/index.ts';
import { readJournal, transcriptOf } from '../../hub/journal.ts';

const JA = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;
const CHINESE_LETTER = /tS'aIni:z/;

describe('the Japanese sample show', () => {
  it('kuroko demo --show hub/shows/tsukiyo.yaml --once performs it in Japanese, speakable by espeak-ng ja', async () => {
    const [port, httpPort] = [await getPort(), await getPort()];
    const cwd = mkdtempSync(join(tmpdir(), 'kuroko-ja-'));
    const child = spawn(process.execPath, [KUROKO, 'demo', '--show', join(ROOT, 'hub/shows/tsukiyo.yaml'), '--once', '--no-node-model',
      '--profile', join(ROOT, 'firmware-config/profiles/sim-robot-espeak.yaml'), '--port', String(port), '--http-port', String(httpPort)], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      // Listen to the cues the hub sends, from the moment its broker is up.
      await waitFor('the demo\'s broker', () => out.includes('broker  mqtt://'), 120_000);
      const rec = await recorder(`mqtt://127.0.0.1:${port}`, [filter('tsukiyo', 'nodeCue')]);
      const code = await exited;
      await rec.client.endAsync();
      expect(code, out).toBe(0);
      console.log(out.split('\n').filter((l) => /^\s+\d+\.\ds {2}|improv|show is over/.test(l)).join('\n'));
      expect(out).toMatch(/readings kana readings of Japanese lines ready/);
      expect(out).toMatch(/The show is over: \d+ lines performed/);
      expect(out).toMatch(/improv {4}crossing: \d+ turns, beats 2\/2/);

      // Every performed line, journaled: Japanese, no English, no label or markup.
      const journal = /journal {3}(\S+\.jsonl)/.exec(out)![1]!;
      const lines = transcriptOf(readJournal(journal));
      expect(lines.length).toBeGreaterThanOrEqual(20);
      for (const l of lines) {
        expect(l.text, l.text).toMatch(JA);
        expect(l.text, l.text).not.toMatch(/[A-Za-z]|[()（）[\]*]|\d\.\d/);
      }
      expect(lines.map((l) => l.text)).toContain('それなら、一緒に渡ろう。'); // the must-say line
      expect(existsSync(journal.replace(/\.jsonl$/, '.srt'))).toBe(true);
      expect(readFileSync(journal.replace(/\.jsonl$/, '.srt'), 'utf8')).toMatch(/睦月: /);

      // What the nodes were told to say: each line cue with kanji carries a kana reading, and the
      // espeak-ng ja phonemes of what is said never hold "Chinese letter".
      const cues = rec.messages.map((m) => JSON.parse(m.payload)).filter((c) => c.kind === 'line');
      expect(cues.length).toBeGreaterThanOrEqual(lines.length);
      for (const c of cues) {
        expect(c.params.language).toBe('ja');
        const say = /[\u3400-\u9fff]/.test(c.params.text) ? c.params.reading : c.params.text;
        expect(say, c.params.text).toBeTruthy();
        expect(say).not.toMatch(/[\u3400-\u9fff]/);
      }
      const all = cues.map((c) => c.params.reading ?? c.params.text).join('\n');
      expect(execFileSync('espeak-ng', ['-v', 'ja', '-x', '-q', '--stdin'], { input: all }).toString()).not.toMatch(CHINESE_LETTER);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  }, 400_000);
});
