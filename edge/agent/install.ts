/**
 * A node's first release (`kuroko node install`): verify the bundle against the key the builder
 * trusts, unpack it to releases/<version>, point `current` at it, and keep the key for the agent.
 * Later releases arrive through the agent (`kuroko fleet update`).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { Releases } from './releases.ts';
import { AgentStateStore, writeFileAtomic } from './agent-state.ts';
import type { ReleaseFormat } from './release-format.ts';

export async function installFirstRelease(dir: string, bundle: string, trustedKeyPem: string, format: ReleaseFormat, say: (line: string) => void): Promise<string> {
  try { createPublicKey(trustedKeyPem); } catch (e) { throw new Error(`the trusted key is not a PEM public key: ${(e as Error).message}`); }
  const releases = new Releases(dir);
  say(`verifying ${bundle}…`);
  const { version } = await format.verify(bundle, trustedKeyPem);
  say(`  release ${version}: signed by the trusted key`);
  const staging = releases.staging(version);
  await format.unpack(bundle, staging, trustedKeyPem);
  format.describe(staging);
  say(`  every file matches the signed manifest`);
  if (releases.current() !== version) releases.install(version, staging);
  releases.switchTo(version);
  say(`  current → releases/${version}`);
  mkdirSync(join(dir, 'agent'), { recursive: true });
  writeFileAtomic(join(dir, 'agent', 'release-key.pem'), trustedKeyPem, 0o644);
  const state = new AgentStateStore(join(dir, 'agent'));
  state.update({ committed: version, pending: null });
  return version;
}
