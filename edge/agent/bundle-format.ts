/**
 * The agent's ReleaseFormat on the signed release bundles of `kuroko release` (deploy/release):
 * the signature is checked first from the manifest alone (cheap, before anything is unpacked),
 * then extractBundle checks every file's sha256 while unpacking and once more on disk.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import {
  checkSignature, extractBundle, keyIdOf, parseManifest, readManifest, MANIFEST_FILE, type TrustedKey,
} from '../../deploy/release/index.ts';
import type { ReleaseFormat, UnpackedRelease } from './release-format.ts';

function trusted(pem: string | null): TrustedKey[] {
  if (!pem) throw new Error('this node trusts no release-signing key yet: adopt it with kuroko fleet adopt --release-key KEY.pub, or install with kuroko node install --trust KEY.pub');
  const publicKey = createPublicKey(pem);
  return [{ publicKey, keyId: keyIdOf(publicKey), source: 'the key this node trusts' }];
}

/** The bundle arch this computer runs. */
export function hostArch(): string {
  return `${process.platform}-${process.arch}`;
}

export function releaseFormat(): ReleaseFormat {
  return {
    async verify(file, pem) {
      const keys = trusted(pem);
      const head = await readManifest(file);
      const problems = checkSignature(head.manifest, head.manifestBytes, head.signature, keys);
      if (problems.length) throw new Error(problems.map((p) => p.message).join('; '));
      if (head.manifest.arch !== hostArch()) throw new Error(`the bundle is for ${head.manifest.arch}; this node is ${hostArch()} (make one with kuroko release --arch ${hostArch()})`);
      return { version: head.manifest.version };
    },
    async unpack(file, dir, pem) {
      await extractBundle(file, dir, trusted(pem));
    },
    describe(dir): UnpackedRelease {
      const m = parseManifest(readFileSync(join(dir, MANIFEST_FILE)));
      let firmware: UnpackedRelease['firmware'] = null;
      if (m.firmware) {
        const v = /^(\d+)\.(\d+)$/.exec(m.firmware.version);
        if (!v) throw new Error(`${MANIFEST_FILE}: firmware version "${m.firmware.version}" is not MAJOR.MINOR`);
        firmware = { hex: join(dir, m.firmware.file), name: 'Kuroko', major: Number(v[1]), minor: Number(v[2]) };
      }
      return { version: m.version, entry: m.entry, firmware };
    },
  };
}
