/**
 * Docker for the container test: the daemon (started by test/container/start-dockerd.sh when none
 * answers), a Debian base image made with debootstrap + `docker import` (no registry is reachable
 * here), and a Node 20 layer from this machine's node binary.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './stage.ts';

export const BASE_IMAGE = 'kuroko-test-base:bookworm';
export const NODE_IMAGE = 'kuroko-test-node:20';
/** Debian packages baked into the base: the broker and Prometheus run from the same image. */
const BASE_PACKAGES = ['mosquitto', 'prometheus', 'ca-certificates'];

export function docker(args: string[], opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync('docker', args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 300000, env: opts.env ?? process.env, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} failed (${r.status}):\n${(r.stderr || r.stdout || String(r.error)).slice(-3000)}`);
  return r.stdout;
}

export function ensureDockerd(): void {
  const r = spawnSync('sh', [join(ROOT, 'test/container/start-dockerd.sh')], { encoding: 'utf8', timeout: 90000 });
  if (r.status !== 0) throw new Error(`no Docker daemon: ${r.stderr || r.stdout}`);
}

const imageExists = (name: string) => spawnSync('docker', ['image', 'inspect', name], { stdio: 'ignore' }).status === 0;

/** A minimal Debian bookworm image with mosquitto and prometheus, built once (debootstrap ~1–2 min). */
export function ensureBaseImage(log: (l: string) => void): void {
  if (imageExists(BASE_IMAGE)) return;
  const dir = join(ROOT, 'var', 'container-base');
  const rootfs = join(dir, 'rootfs');
  if (!existsSync(join(dir, 'done'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    log(`debootstrap --variant=minbase bookworm (+ ${BASE_PACKAGES.join(', ')})`);
    execFileSync('debootstrap', ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, 'bookworm', rootfs, 'http://deb.debian.org/debian'],
      { stdio: ['ignore', 'ignore', 'pipe'], timeout: 900000 });
    writeFileSync(join(dir, 'done'), '');
  }
  log(`docker import → ${BASE_IMAGE}`);
  execFileSync('sh', ['-c', `tar -C '${rootfs}' -c . | docker import - ${BASE_IMAGE}`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 600000 });
}

/** BASE_IMAGE + this machine's Node 20 (production uses a node base image instead). */
export function ensureNodeImage(): void {
  if (imageExists(NODE_IMAGE)) return;
  const ctx = join(ROOT, 'var', 'container-node');
  mkdirSync(ctx, { recursive: true });
  copyFileSync(process.execPath, join(ctx, 'node'));
  writeFileSync(join(ctx, 'Dockerfile'), `FROM ${BASE_IMAGE}\nCOPY node /usr/local/bin/node\n`);
  docker(['build', '-q', '-t', NODE_IMAGE, ctx]);
}
