/**
 * GPU utilisation from nvidia-smi, sampled in the background only where nvidia-smi is on the PATH,
 * so a hub without an NVIDIA GPU never spawns anything.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface GpuSample {
  gpu: string;
  /** 0..1 */
  utilization: number;
  memoryUsedBytes: number;
}

export const NVIDIA_SMI_ARGS = ['--query-gpu=utilization.gpu,memory.used', '--format=csv,noheader,nounits'];

/** The full path of an executable found on the PATH, or null. */
export function findOnPath(cmd: string, pathEnv: string | undefined = process.env.PATH): string | null {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch { /* not here */ }
  }
  return null;
}

/** Parses `utilization %, memory MiB` lines, one per GPU; lines it cannot read ([N/A]) are left out. */
export function parseNvidiaSmi(out: string): GpuSample[] {
  const samples: GpuSample[] = [];
  out.split('\n').map((l) => l.trim()).filter(Boolean).forEach((line, i) => {
    const [util, mem] = line.split(',').map((x) => Number(x.trim()));
    if (Number.isFinite(util) && Number.isFinite(mem)) {
      samples.push({ gpu: String(i), utilization: util! / 100, memoryUsedBytes: mem! * 1024 * 1024 });
    }
  });
  return samples;
}

export interface GpuSamplerOptions {
  exe: string;
  intervalMs?: number;
  onSample(s: GpuSample[]): void;
  onError?(e: Error): void;
}

/** Runs nvidia-smi every intervalMs (never two at once) until stop(). */
export function startGpuSampler(o: GpuSamplerOptions): { stop(): void } {
  let busy = false;
  let stopped = false;
  const sample = () => {
    if (busy || stopped) return;
    busy = true;
    execFile(o.exe, NVIDIA_SMI_ARGS, { timeout: 5000 }, (err, stdout) => {
      busy = false;
      if (stopped) return;
      if (err) o.onError?.(err);
      else o.onSample(parseNvidiaSmi(stdout));
    });
  };
  sample();
  const timer = setInterval(sample, o.intervalMs ?? 5000);
  timer.unref();
  return { stop() { stopped = true; clearInterval(timer); } };
}
