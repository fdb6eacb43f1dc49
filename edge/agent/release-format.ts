/**
 * What the agent needs from a release bundle: check it, unpack it, read an unpacked one. The
 * bundle format itself (manifest, sha256 of every file, ed25519 signature) belongs to
 * `kuroko release`; this file adapts its API to the agent and nothing else.
 */
export interface ReleaseFirmware {
  /** The .hex inside the unpacked release. */
  hex: string;
  name: string;
  major: number;
  minor: number;
}

export interface UnpackedRelease {
  version: string;
  /** The command to run, relative to the release folder (e.g. bin/kuroko.js). */
  entry: string;
  firmware: ReleaseFirmware | null;
}

export interface ReleaseFormat {
  /** Checks signature and hashes against the trusted key; throws an Error naming what is wrong. */
  verify(file: string, trustedKeyPem: string | null): Promise<{ version: string }>;
  /** Unpacks a bundle into `dir` (an empty folder), checking every file's hash against the signed manifest. */
  unpack(file: string, dir: string, trustedKeyPem: string | null): Promise<void>;
  /** Reads an unpacked release folder. */
  describe(dir: string): UnpackedRelease;
}
