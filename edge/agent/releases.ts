/**
 * The releases on a node, Mender's "directory update" shape: every release unpacked in its own
 * folder `releases/<version>`, and one symlink `current` naming the one that runs. Switching is a
 * rename of a new symlink over the old one, which POSIX makes atomic: at every instant `current`
 * names a whole release, never half of one, even if the power goes mid-update.
 */
import { existsSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Versions become folder names: keep them to a safe alphabet. */
const VERSION_RE = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

export function checkVersion(v: string): string {
  if (!VERSION_RE.test(v)) throw new Error(`release version "${v.slice(0, 80)}" is not usable as a folder name (letters, digits, . + _ -)`);
  return v;
}

export class Releases {
  constructor(readonly root: string) {
    mkdirSync(this.dir, { recursive: true });
  }

  get dir(): string { return join(this.root, 'releases'); }
  get currentLink(): string { return join(this.root, 'current'); }
  pathOf(version: string): string { return join(this.dir, checkVersion(version)); }
  has(version: string): boolean { return existsSync(this.pathOf(version)); }

  /** The version `current` points at, or null before the first install. */
  current(): string | null {
    try { return basename(readlinkSync(this.currentLink)); } catch { return null; }
  }

  list(): string[] {
    return readdirSync(this.dir, { withFileTypes: true }).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name).sort();
  }

  /** A scratch folder to unpack into; moved into place only once the unpack is whole. */
  staging(version: string): string {
    const p = join(this.dir, `.staging-${checkVersion(version)}-${process.pid}`);
    rmSync(p, { recursive: true, force: true });
    mkdirSync(p, { recursive: true });
    return p;
  }

  /** Moves a whole unpacked release into place (replacing an older copy of the same version). */
  install(version: string, stagingDir: string): string {
    const target = this.pathOf(version);
    if (existsSync(target)) {
      if (this.current() === version) throw new Error(`release ${version} is the one running; it is not replaced in place`);
      rmSync(target, { recursive: true, force: true });
    }
    renameSync(stagingDir, target);
    return target;
  }

  /** Points `current` at a release, atomically (a new symlink renamed over the old). */
  switchTo(version: string): void {
    if (!this.has(version)) throw new Error(`no release ${version} in ${this.dir}`);
    const tmp = join(this.root, `.current-${process.pid}-${Date.now()}`);
    symlinkSync(join('releases', version), tmp);
    renameSync(tmp, this.currentLink);
    // The rename is only durable once the folder that holds it is on disk.
    const fd = openSync(this.root, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  }

  /** Keeps the given versions (current, previous) and removes every other release. */
  prune(keep: Array<string | null>): string[] {
    const removed: string[] = [];
    for (const v of this.list()) {
      if (keep.includes(v)) continue;
      rmSync(this.pathOf(v), { recursive: true, force: true });
      removed.push(v);
    }
    for (const d of readdirSync(this.dir)) if (d.startsWith('.staging-')) rmSync(join(this.dir, d), { recursive: true, force: true });
    return removed;
  }
}
