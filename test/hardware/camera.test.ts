/** Camera frames from ffmpeg's test source, motion by differencing, and privacy by default. */
import { describe, expect, it } from 'vitest';
import { Camera, type CameraT } from '../../edge/camera/camera.ts';
import { MotionDetector } from '../../edge/camera/motion.ts';
import { waitFor } from './helpers.ts';

const cfg = (over: Partial<CameraT> = {}): CameraT => ({ id: 'eye', kind: 'camera', source: 'testsrc', width: 96, height: 72, fps: 15, ...over });

describe('camera', () => {
  it('reads gray frames from ffmpeg testsrc and reports motion', async () => {
    const cam = new Camera(cfg({ motionThreshold: 0.02 }));
    const seen: Array<{ region: string; strength: number }> = [];
    cam.on('motion', (m) => seen.push(m));
    cam.start();
    try {
      await waitFor('motion from testsrc', () => seen.length > 0, 8000);
      expect(seen[0]!.strength).toBeGreaterThan(0.02);
      expect(seen[0]!.strength).toBeLessThanOrEqual(1);
      expect(['top-left', 'top', 'top-right', 'left', 'center', 'right', 'bottom-left', 'bottom', 'bottom-right']).toContain(seen[0]!.region);
      // privacy by default: no frame can be taken out
      expect(() => cam.snapshot()).toThrow(/snapshots are off/);
    } finally {
      await cam.stop();
    }
  }, 15_000);

  it('sees no motion in a still picture, and hands out frames only with snapshots: true', async () => {
    const cam = new Camera(cfg({ device: 'color=c=gray', snapshots: true }));
    let motion = 0;
    cam.on('motion', () => motion++);
    cam.start();
    try {
      await waitFor('frames', () => cam.frames >= 8, 8000);
      expect(motion).toBe(0);
      const f = cam.snapshot();
      expect(f.data.length).toBe(96 * 72);
      expect(f.data[0]).toBeGreaterThan(100);
    } finally {
      await cam.stop();
    }
  }, 15_000);

  it('locates motion in the frame', () => {
    const d = new MotionDetector(0.1);
    const w = 30, h = 30;
    const a = Buffer.alloc(w * h, 0);
    const b = Buffer.from(a);
    for (let y = 20; y < 30; y++) for (let x = 0; x < 10; x++) b[y * w + x] = 255;
    expect(d.push({ width: w, height: h, data: a, t: 0 })).toBeNull();
    expect(d.push({ width: w, height: h, data: b, t: 1 })).toEqual({ region: 'bottom-left', strength: 1 });
  });
});
