/**
 * Camera frames as raw 8-bit gray images on a pipe from ffmpeg (a v4l2 device, or ffmpeg's lavfi
 * test source), at the low resolution motion detection needs. Frames stay in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';

export interface FrameSourceOptions {
  source: 'v4l2' | 'libcamera' | 'testsrc';
  /** v4l2: /dev/videoN. testsrc: a lavfi source graph (default "testsrc"). */
  device?: string;
  width: number;
  height: number;
  fps: number;
  ffmpeg?: string;
}

export interface GrayFrame { width: number; height: number; data: Buffer; t: number }

export function ffmpegArgs(o: FrameSourceOptions): string[] {
  const size = `${o.width}x${o.height}`;
  let input: string[];
  if (o.source === 'v4l2') input = ['-f', 'v4l2', '-framerate', String(o.fps), '-i', o.device ?? '/dev/video0'];
  else if (o.source === 'testsrc') {
    const graph = o.device ?? 'testsrc';
    input = ['-re', '-f', 'lavfi', '-i', `${graph}${graph.includes('=') ? ':' : '='}size=${size}:rate=${o.fps}`];
  }
  // libcamera cameras (Pi camera modules) show up as v4l2 devices through the libcamera v4l2 compat
  // layer only with libcamerify; read the device plainly and let ffmpeg scale.
  else input = ['-f', 'v4l2', '-i', o.device ?? '/dev/video0'];
  return ['-hide_banner', '-loglevel', 'error', '-nostdin', ...input,
    '-vf', `fps=${o.fps},scale=${o.width}:${o.height},format=gray`, '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'];
}

/** Emits 'frame' (GrayFrame), 'error' (Error) and 'exit' (code). */
export class FrameSource extends EventEmitter {
  private proc: ChildProcess | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private stderr = '';

  constructor(readonly opts: FrameSourceOptions) { super(); }

  start(): void {
    const frameBytes = this.opts.width * this.opts.height;
    const proc = spawn(this.opts.ffmpeg ?? 'ffmpeg', ffmpegArgs(this.opts), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.on('error', (e: NodeJS.ErrnoException) => this.emit('error', new Error(e.code === 'ENOENT' ? 'ffmpeg is not installed (Debian package: ffmpeg)' : e.message)));
    proc.stderr!.on('data', (d: Buffer) => { this.stderr = (this.stderr + d.toString()).slice(-2000); });
    proc.stdout!.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      while (this.pendingBytes >= frameBytes) {
        const all = Buffer.concat(this.pending);
        this.emit('frame', { width: this.opts.width, height: this.opts.height, data: all.subarray(0, frameBytes), t: Date.now() } satisfies GrayFrame);
        const rest = all.subarray(frameBytes);
        this.pending = rest.length ? [rest] : [];
        this.pendingBytes = rest.length;
      }
    });
    proc.on('exit', (code) => {
      this.proc = null;
      if (code && code !== 255) this.emit('error', new Error(`ffmpeg exited ${code}: ${this.stderr.trim().split('\n').pop() ?? ''}`));
      this.emit('exit', code);
    });
  }

  stop(): Promise<void> {
    const p = this.proc;
    if (!p) return Promise.resolve();
    return new Promise((resolve) => { p.once('exit', () => resolve()); p.kill('SIGTERM'); });
  }
}
