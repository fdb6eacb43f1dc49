/**
 * A SpeechEngine on espeak-ng: each character speaks its own language (Japanese included) or
 * voice. espeak-ng renders the line to WAV first (--stdout), so the duration and the jaw envelope
 * are known before the line starts; then it plays through aplay, or to a null sink (timed
 * silence) or a file where there is no audio device, as in CI.
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { SpeakRequest, SpeechEngine, Utterance } from './types.ts';
import { envelopeOf, parseWav } from './espeak-wav.ts';
import { JAPANESE, speakableJapanese } from './reading.ts';

export interface EspeakOptions {
  /** espeak-ng voice per language code (default: the code itself, e.g. 'ja', 'en-us'). */
  voices?: Record<string, string>;
  defaultVoice?: string;
  /** 'aplay' (default when aplay exists), 'null' (timed silence), or { file } to write the WAV. */
  output?: 'aplay' | 'null' | { file: string };
  /** ALSA device for aplay (-D). */
  device?: string;
  /** Words per minute (espeak-ng -s). */
  speed?: number;
  frameMs?: number;
  binary?: string;
  log?: Logger;
}

function run(cmd: string, args: string[], input: string | Buffer | null, signal?: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], signal });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error(`${cmd} is not installed (Debian package: ${cmd === 'aplay' ? 'alsa-utils' : cmd})`) : e));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} exited ${code}: ${err.trim()}`))));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? undefined);
  });
}

/** Languages, voice names and voice files espeak-ng knows (it silently falls back on unknown ones). */
let known: Promise<Set<string>> | null = null;
function knownVoices(binary: string): Promise<Set<string>> {
  known ??= run(binary, ['--voices'], null).then((out) => {
    const set = new Set<string>();
    for (const line of out.toString().split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // Pty Language Age/Gender VoiceName File [Other Languages]
      if (cols.length >= 5) { set.add(cols[1]!); set.add(cols[3]!); set.add(cols[4]!); set.add(cols[4]!.split('/').pop()!); }
    }
    return set;
  });
  return known;
}

let aplayPresent: boolean | null = null;
async function hasAplay(): Promise<boolean> {
  if (aplayPresent === null) aplayPresent = await run('sh', ['-c', 'command -v aplay'], null).then(() => true, () => false);
  return aplayPresent;
}

export class EspeakVoice implements SpeechEngine {
  readonly name = 'espeak-ng';
  constructor(private readonly opts: EspeakOptions = {}) {}

  voiceFor(req: SpeakRequest): string {
    if (req.voice) return req.voice;
    if (req.language) return this.opts.voices?.[req.language] ?? req.language;
    return this.opts.defaultVoice ?? 'en-us';
  }

  /**
   * What espeak-ng is given: a Japanese line as kana (the hub's reading, else MeCab's, else
   * without its kanji), since its `ja` voice reads every kanji as "Chinese letter".
   */
  async textToSay(req: SpeakRequest): Promise<string> {
    const voice = this.voiceFor(req);
    if (!(voice.startsWith('ja') || req.language?.startsWith('ja') || JAPANESE.test(req.text))) return req.text;
    const r = await speakableJapanese(req.text, req.reading);
    if (r.via === 'stripped' && !this.warnedNoReading) {
      this.warnedNoReading = true;
      this.opts.log?.warn('a Japanese line came without a reading and MeCab + IPADIC are not installed: its kanji are skipped (apt install mecab mecab-ipadic-utf8)');
    }
    return r.say;
  }

  private warnedNoReading = false;

  /** Renders a line to WAV bytes. The text goes on stdin: a line is never parsed as an option. */
  async render(req: SpeakRequest, signal?: AbortSignal): Promise<Buffer> {
    const voice = this.voiceFor(req);
    const binary = this.opts.binary ?? 'espeak-ng';
    if (!(await knownVoices(binary)).has(voice.split('+')[0]!)) {
      throw new Error(`espeak-ng has no voice or language "${voice}" (see espeak-ng --voices)`);
    }
    const args = ['-v', voice, '--stdout', '-b', '1'];
    if (this.opts.speed) args.push('-s', String(this.opts.speed));
    return run(binary, args, await this.textToSay(req), signal);
  }

  async speak(req: SpeakRequest, signal: AbortSignal): Promise<Utterance> {
    const wav = await this.render(req, signal);
    const pcm = parseWav(wav);
    const frameMs = this.opts.frameMs ?? 20;
    const durationMs = Math.round((pcm.samples.length / pcm.sampleRate) * 1000);
    const envelope = { frameMs, values: envelopeOf(pcm, frameMs) };
    const output = this.opts.output ?? ((await hasAplay()) ? 'aplay' : 'null');
    const done = this.play(wav, durationMs, output, signal);
    done.catch(() => undefined);
    return { durationMs, envelope, done };
  }

  private async play(wav: Buffer, durationMs: number, output: EspeakOptions['output'], signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new Error('line cut short');
    if (output === 'aplay') {
      try {
        await run('aplay', ['-q', ...(this.opts.device ? ['-D', this.opts.device] : []), '-'], wav, signal);
        return;
      } catch (e) {
        if (signal.aborted) throw new Error('line cut short');
        throw e;
      }
    }
    if (typeof output === 'object') await writeFile(output.file, wav);
    // No speaker: keep the line's timing, so cues and the jaw stay in sync.
    await new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(new Error('line cut short')); // aborted while the file was written
      const t = setTimeout(resolve, durationMs);
      signal.addEventListener('abort', () => { clearTimeout(t); reject(new Error('line cut short')); }, { once: true });
    });
  }
}
