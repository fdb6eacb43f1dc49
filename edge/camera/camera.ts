/**
 * A node's camera: frames from ffmpeg, motion events out. Privacy by default: no frame leaves this
 * object unless the profile sets snapshots: true; motion events carry only a region and a strength.
 *
 * Events: 'motion' ({ region, strength, camera }), 'error' (Error).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { SensorT } from '../../firmware-config/profile-schema.ts';
import { FrameSource, type GrayFrame } from './frames.ts';
import { MotionDetector } from './motion.ts';

export type CameraT = Extract<SensorT, { kind: 'camera' }>;

export class Camera extends EventEmitter {
  private readonly source: FrameSource;
  private readonly detector: MotionDetector;
  private last: GrayFrame | null = null;
  frames = 0;

  constructor(readonly cfg: CameraT, private readonly log?: Logger, ffmpeg?: string) {
    super();
    this.source = new FrameSource({ source: cfg.source, device: cfg.device, width: cfg.width, height: cfg.height, fps: cfg.fps, ffmpeg });
    this.detector = new MotionDetector(cfg.motionThreshold ?? 0.05);
    this.source.on('frame', (f: GrayFrame) => {
      this.frames++;
      if (cfg.snapshots) this.last = f; // kept only when the profile allows snapshots
      const m = this.detector.push(f);
      if (m) this.emit('motion', { ...m, camera: cfg.id });
    });
    this.source.on('error', (e: Error) => { this.log?.error({ camera: cfg.id, err: e.message }, 'camera failed'); this.emit('error', e); });
  }

  start(): void { this.source.start(); }

  /** The latest frame (8-bit gray), only if the profile allows snapshots. */
  snapshot(): GrayFrame {
    if (!this.cfg.snapshots) throw new Error(`camera ${this.cfg.id}: snapshots are off in the profile (privacy by default); set snapshots: true to allow them`);
    if (!this.last) throw new Error(`camera ${this.cfg.id}: no frame yet`);
    return { ...this.last, data: Buffer.from(this.last.data) };
  }

  stop(): Promise<void> { return this.source.stop(); }
}
