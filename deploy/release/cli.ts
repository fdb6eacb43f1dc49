/**
 * `kuroko release`: make, check and inspect signed release bundles.
 */
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../bin/errors.ts';
import { createBundle } from './bundle.ts';
import { generateKeyFiles, loadSigningKey, loadTrustedKey, type TrustedKey } from './keys.ts';
import { readManifest, verifyBundle } from './verify.ts';
import { RELEASE_ARCHES } from './manifest.ts';

export const RELEASE_HELP = `kuroko release — signed release bundles for hubs and nodes

Usage:
  kuroko release --arch linux-arm64|linux-x64 -o FILE [--key FILE.key]
  kuroko release verify FILE [--key FILE.pub ...]
  kuroko release show FILE
  kuroko release keygen [--out DIR]

release          builds dist/ and packs, for the target: the compiled JS, production node_modules with
                 every native part built for the target (no compiler on the node), the firmware .hex,
                 the node model and the deploy files, with a manifest (versions, sha256 of every file)
                 signed with ed25519. 64-bit Linux only: onnxruntime-node has no 32-bit ARM build.
verify           checks the signature against trusted public keys and every file against the
                 manifest; prints each problem (file and what is wrong) and exits 1 if any.
show             prints the manifest's summary (no checks).
keygen           writes a new key pair: kuroko-release.key (keep private) and kuroko-release.pub.

Keys: --key, else $KUROKO_RELEASE_KEY (signing) / $KUROKO_RELEASE_PUBKEY (verifying), else
var/release-keys/kuroko-release.key|.pub in the current folder. \`kuroko release\` makes that
pair on first use and says so.`;

const DEFAULT_KEY_DIR = 'var/release-keys';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The repository root that holds package-lock.json (dist/deploy/release/ is one level deeper). */
function repoRoot(): string {
  for (const r of [REPO_ROOT, join(REPO_ROOT, '..')]) if (existsSync(join(r, 'package-lock.json'))) return resolve(r);
  throw new UsageError('kuroko release runs in a source checkout (package-lock.json and node_modules are needed to build a bundle)');
}

function trustedKeys(files: string[] | undefined): TrustedKey[] {
  const list = files?.length ? files : process.env.KUROKO_RELEASE_PUBKEY ? [process.env.KUROKO_RELEASE_PUBKEY]
    : existsSync(join(DEFAULT_KEY_DIR, 'kuroko-release.pub')) ? [join(DEFAULT_KEY_DIR, 'kuroko-release.pub')] : [];
  return list.map((f) => loadTrustedKey(f));
}

async function verifyCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { key: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  if (values.help) { console.log(RELEASE_HELP); return 0; }
  if (positionals.length !== 1) throw new UsageError('name one bundle: kuroko release verify FILE [--key FILE.pub]');
  const file = positionals[0]!;
  const result = await verifyBundle(file, trustedKeys(values.key));
  if (result.ok) {
    const m = result.manifest!;
    console.log(`ok   ${file}: kuroko ${m.version} for ${m.arch}, ${m.files.length} files, signed by key ${m.signer.keyId}`);
    return 0;
  }
  console.error(`FAIL ${file}: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`);
  for (const p of result.problems.slice(0, 50)) console.error(`  ${p.kind.padEnd(9)} ${p.message}`);
  if (result.problems.length > 50) console.error(`  … ${result.problems.length - 50} more`);
  return 1;
}

async function showCli(argv: string[]): Promise<number> {
  const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true, strict: true });
  if (positionals.length !== 1) throw new UsageError('name one bundle: kuroko release show FILE');
  const { manifest: m } = await readManifest(positionals[0]!);
  console.log(`kuroko ${m.version} for ${m.arch} (built ${m.createdAt}${m.commit ? ` from ${m.commit.slice(0, 12)}` : ''}), signed by key ${m.signer.keyId}`);
  console.log(`node ${m.node.engines} (ABI ${m.node.modules}, N-API ${m.node.napi}); entry ${m.entry}; ${m.files.length} files, ${(m.files.reduce((a, f) => a + f.size, 0) / 1e6).toFixed(1)} MB unpacked`);
  if (m.firmware) console.log(`firmware ${m.firmware.version}: ${m.firmware.file}`);
  if (m.model) console.log(`model ${m.model.name} (${m.model.dtype}): ${m.model.dir}`);
  console.log(`components: ${Object.entries(m.components).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const n of m.natives) console.log(`native ${n.package}@${n.version} (${n.origin}): ${n.files.join(', ')}`);
  for (const o of m.omitted) console.log(`omitted ${o.package}: ${o.reason}`);
  return 0;
}

function keygenCli(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string', default: DEFAULT_KEY_DIR } }, strict: true });
  const k = generateKeyFiles(values.out!);
  console.log(`key ${k.keyId}: ${k.privateFile} (private: keep it off the nodes) and ${k.publicFile} (give it to every node)`);
  return 0;
}

export async function runReleaseCli(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'verify') return verifyCli(rest);
  if (sub === 'show') return showCli(rest);
  if (sub === 'keygen') return keygenCli(rest);
  const { values, positionals } = parseArgs({
    args: argv, strict: true, allowPositionals: true,
    options: { arch: { type: 'string' }, out: { type: 'string', short: 'o' }, key: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) { console.log(RELEASE_HELP); return 0; }
  if (positionals.length) throw new UsageError(`unknown subcommand "${positionals[0]}" (verify, show, keygen; or --arch … -o FILE to make a bundle)`);
  if (!values.arch) throw new UsageError(`--arch is required: ${RELEASE_ARCHES.join(' or ')}`);
  if (!values.out) throw new UsageError('-o FILE is required (where to write the bundle, e.g. kuroko-0.1.0-linux-arm64.tar.gz)');
  let keyFile = values.key ?? process.env.KUROKO_RELEASE_KEY;
  if (!keyFile) {
    keyFile = join(DEFAULT_KEY_DIR, 'kuroko-release.key');
    if (!existsSync(keyFile)) {
      const k = generateKeyFiles(DEFAULT_KEY_DIR);
      console.log(`release: no signing key given; made a new one, key ${k.keyId}: ${k.privateFile} (keep private) and ${k.publicFile} (give to nodes)`);
    }
  }
  const key = loadSigningKey(keyFile);
  const m = await createBundle({ root: repoRoot(), arch: values.arch, out: resolve(values.out), key, log: (l) => console.log(`release: ${l}`) });
  console.log(`release: kuroko ${m.version} for ${m.arch}, signed by key ${key.keyId}: ${values.out}`);
  return 0;
}
