/**
 * A small state file replaced atomically and durably: written to a temporary file in the same
 * folder, fsynced, renamed over the old one, and the folder synced — so a crash or a power cut
 * leaves either the old file or the new one, never half of one. The e-stop latch and the signed
 * counter floor are kept this way.
 */
import * as nodeFs from 'node:fs';
import { dirname, join } from 'node:path';

/** The file operations needed; tests inject failures here. */
export interface AtomicFs {
  writeFileSync(path: string | number, data: string): void;
  openSync(path: string, flags: string): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  mkdirSync(path: string, opts: { recursive: true }): unknown;
}

/** Replaces `path` with `text`; throws when it cannot. */
export function writeFileAtomic(path: string, text: string, fs: AtomicFs = nodeFs): void {
  const dir = dirname(path);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, path);
  // The rename itself lives in the folder: sync it too, or a power cut may forget it.
  try {
    const dfd = fs.openSync(dir, 'r');
    try { fs.fsyncSync(dfd); } finally { fs.closeSync(dfd); }
  } catch { /* some filesystems refuse fsync on a folder; the file itself is synced */ }
}
