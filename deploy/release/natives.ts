/**
 * The native parts of a bundle. Every ELF file in it must be built for the target (checked here,
 * file by file), and every package that would compile at install time (it has a binding.gyp) must
 * carry a binary for the target — otherwise the node would need a compiler, which it never has.
 * epoll (onoff's sysfs backend, no prebuilds upstream) is compiled here for the target with
 * Debian's (cross) g++ against this Node's headers.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmSync, lstatSync, copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import type { NativePart, ReleaseArch } from './manifest.ts';
import { BundleError } from './pack.ts';
import { packageName } from './modules.ts';

const EM_X86_64 = 62;
const EM_AARCH64 = 183;
export const elfMachineOf = (arch: ReleaseArch) => (arch === 'linux-arm64' ? EM_AARCH64 : EM_X86_64);
const machineName = (m: number) => (m === EM_X86_64 ? 'x86-64' : m === EM_AARCH64 ? 'aarch64' : `ELF machine ${m}`);

/** The ELF machine of a file, or undefined when it is not an ELF file. */
export function elfMachine(file: string): { machine: number; bits: number } | undefined {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(20);
    if (readSync(fd, b, 0, 20, 0) < 20 || b.readUInt32BE(0) !== 0x7f454c46) return undefined;
    return { bits: b[4] === 2 ? 64 : 32, machine: b.readUInt16LE(18) };
  } finally {
    closeSync(fd);
  }
}

/** Compiler for the target on this (x86-64 Debian) machine. */
export function cxxFor(arch: ReleaseArch): string {
  return arch === 'linux-arm64' ? 'aarch64-linux-gnu-g++' : 'g++';
}

function nodeHeaders(): string {
  const dir = join(dirname(process.execPath), '..', 'include', 'node');
  if (!existsSync(join(dir, 'node.h'))) throw new BundleError(`Node's C headers are not at ${dir}; install Node 20 with its headers (the official tarball or NodeSource package has them)`);
  return dir;
}

/** Compiles epoll's addon (a NAN addon: it is tied to this Node's major version) for the target. */
export function buildEpoll(root: string, arch: ReleaseArch, cacheDir: string): string {
  const epollDir = join(root, 'node_modules', 'epoll');
  const nanDir = join(root, 'node_modules', 'nan');
  const cxx = cxxFor(arch);
  const args = ['-shared', '-fPIC', '-O2', '-std=gnu++17', '-DBUILDING_NODE_EXTENSION', '-DNODE_GYP_MODULE_NAME=epoll',
    '-Wno-deprecated-declarations', '-Wno-cast-function-type', '-I', nodeHeaders(), '-I', nanDir, join(epollDir, 'src', 'epoll.cc')];
  const version = (JSON.parse(readFileSync(join(epollDir, 'package.json'), 'utf8')) as { version: string }).version;
  const key = createHash('sha256').update([cxx, process.version, version, ...args].join('\0')).digest('hex').slice(0, 12);
  const out = join(cacheDir, 'native', `epoll-${version}-${arch}-${key}`, 'epoll.node');
  if (existsSync(out)) return out;
  mkdirSync(dirname(out), { recursive: true });
  try {
    execFileSync(cxx, [...args, '-o', `${out}.tmp`], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    rmSync(`${out}.tmp`, { force: true });
    if (err.code === 'ENOENT') throw new BundleError(`${cxx} not found: install Debian's ${arch === 'linux-arm64' ? 'g++-aarch64-linux-gnu' : 'g++'} to build epoll for ${arch}`);
    throw new BundleError(`building epoll for ${arch} failed:\n${err.stderr?.toString() ?? ''}`);
  }
  execFileSync('mv', [`${out}.tmp`, out]);
  return out;
}

function walk(dir: string, rel = '', out: string[] = []): string[] {
  for (const name of readdirSync(join(dir, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    if (st.isDirectory()) walk(dir, r, out);
    else if (st.isFile()) out.push(r);
  }
  return out;
}

export interface NativeAudit {
  natives: NativePart[];
  omitted: { package: string; reason: string }[];
}

/**
 * Checks every file under stage: an ELF for another machine is an error naming the file. Optional
 * packages that would need a compiler are removed (and reported); required ones are an error.
 */
export function auditNatives(stage: string, arch: ReleaseArch, packages: Map<string, string>, optional: Set<string>,
  builtHere: Set<string>, ownParts: Map<string, { name: string; version: string }> = new Map()): NativeAudit {
  const want = elfMachineOf(arch);
  const byPackage = new Map<string, string[]>();
  const wrong: string[] = [];
  const pkgPaths = [...packages.keys()].sort((a, b) => b.length - a.length);
  const owner = (file: string) => pkgPaths.find((p) => file.startsWith(`${p}/`)) ?? [...ownParts.keys()].find((p) => file.startsWith(`${p}/`));
  for (const file of walk(stage)) {
    const elf = elfMachine(join(stage, file));
    if (!elf) continue;
    if (elf.machine !== want || elf.bits !== 64) { wrong.push(`${file} (${machineName(elf.machine)}, ${elf.bits}-bit)`); continue; }
    const p = owner(file);
    if (p) byPackage.set(p, [...(byPackage.get(p) ?? []), file]);
  }
  const omitted: NativeAudit['omitted'] = [];
  const missing: string[] = [];
  for (const p of packages.keys()) {
    if (!existsSync(join(stage, p, 'binding.gyp')) || byPackage.has(p)) continue;
    if (optional.has(p)) {
      rmSync(join(stage, p), { recursive: true, force: true });
      for (const q of packages.keys()) if (q.startsWith(`${p}/`)) rmSync(join(stage, q), { recursive: true, force: true });
      omitted.push({ package: `${packageName(p)}@${packages.get(p)}`, reason: `optional, and it has no prebuilt binary for ${arch} (it would need a compiler on the node)` });
    } else missing.push(`${packageName(p)}@${packages.get(p)}`);
  }
  if (wrong.length) throw new BundleError(`files built for another machine than ${arch} (${machineName(want)}):\n  ${wrong.slice(0, 20).join('\n  ')}${wrong.length > 20 ? `\n  … ${wrong.length - 20} more` : ''}`);
  if (missing.length) throw new BundleError(`no ${arch} binary for ${missing.join(', ')}: the node would need a compiler. Add a prebuilt binary or a build step in deploy/release/natives.ts`);
  const natives: NativePart[] = [...byPackage].filter(([p]) => existsSync(join(stage, p)))
    .map(([p, files]) => ({
      package: ownParts.get(p)?.name ?? packageName(p), version: ownParts.get(p)?.version ?? packages.get(p) ?? '',
      files: files.sort(), origin: builtHere.has(p) || ownParts.has(p) ? 'built' as const : 'prebuilt' as const,
    }));
  return { natives, omitted };
}

/** Puts a binary built here into a staged package (e.g. epoll's build/Release/epoll.node). */
export function placeBinary(stage: string, pkgPath: string, rel: string, binary: string): void {
  mkdirSync(dirname(join(stage, pkgPath, rel)), { recursive: true });
  copyFileSync(binary, join(stage, pkgPath, rel));
}
