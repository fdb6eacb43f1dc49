// Types of build.js for the TypeScript callers (deploy/release).
export const ROOT: string;
export const NODE_PRE_GYP: string;
export const NAPI: number;
export const PREBUILT_DIR: (root?: string) => string;
export function binaryPath(arch: 'x64' | 'arm64', root?: string): string;
export function packageName(arch: 'x64' | 'arm64'): string;
export function nodeDir(): string | undefined;
export function gypEnv(arch: 'x64' | 'arm64'): NodeJS.ProcessEnv;
export function buildAddon(arch: 'x64' | 'arm64', opts?: { root?: string; pack?: boolean }): { binary: string; tarball?: string };
