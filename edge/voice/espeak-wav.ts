/**
 * Reading espeak-ng's WAV output and turning it into a mouth envelope. espeak-ng writes a
 * streaming WAV (data size 0x7fffffff), so the data chunk runs to the end of what we read.
 */
export interface Pcm { sampleRate: number; samples: Int16Array }

export function parseWav(buf: Buffer): Pcm {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let off = 12;
  let sampleRate = 0, channels = 1, bits = 16;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`unsupported WAV: ${bits}-bit`);
      if (size > buf.length - body) size = buf.length - body; // streaming header
      const frames = Math.floor(size / 2 / channels);
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = buf.readInt16LE(body + i * 2 * channels);
      return { sampleRate, samples };
    }
    off = body + size + (size & 1);
  }
  throw new Error('WAV has no data chunk');
}

/**
 * Mouth opening per frame (0..1): RMS loudness per window, a noise gate, scaled to the line's
 * loudest frame, with a fast attack and slower release so the jaw does not chatter.
 */
export function envelopeOf(pcm: Pcm, frameMs = 20): number[] {
  const n = Math.max(1, Math.round((pcm.sampleRate * frameMs) / 1000));
  const rms: number[] = [];
  for (let i = 0; i < pcm.samples.length; i += n) {
    let sum = 0;
    const end = Math.min(pcm.samples.length, i + n);
    for (let j = i; j < end; j++) sum += pcm.samples[j]! * pcm.samples[j]!;
    rms.push(Math.sqrt(sum / Math.max(1, end - i)) / 32768);
  }
  const peak = Math.max(...rms, 1e-6);
  const gate = peak * 0.08;
  const out: number[] = [];
  let level = 0;
  for (const r of rms) {
    const target = r < gate ? 0 : Math.min(1, r / peak);
    level = target > level ? target : level * 0.6 + target * 0.4; // attack at once, release over ~3 frames
    out.push(Math.round(level * 1000) / 1000);
  }
  return out;
}
