/**
 * Library API of release bundles (for the fleet agent and tests):
 *  - createBundle: the full `kuroko release` (build, stage for an arch, sign, pack)
 *  - packTree: sign and pack any folder (small test bundles)
 *  - readManifest / verifyBundle / verifyTree / extractBundle: check and unpack
 *  - key handling: generateKeyFiles, loadSigningKey, loadTrustedKey, keyIdOf
 */
export { createBundle, checkArch, FIRMWARE_IN_BUNDLE, MODEL_IN_BUNDLE, type CreateBundleOptions } from './bundle.ts';
export { packTree, hashTree, listTree, sha256File, BundleError, type ManifestFields } from './pack.ts';
export { readManifest, verifyBundle, verifyTree, extractBundle, checkSignature, type BundleProblem, type VerifyResult } from './verify.ts';
export { generateKeyFiles, loadSigningKey, loadTrustedKey, keyIdOf, publicKeyFromRaw, rawPublicKey, ReleaseKeyError, type SigningKey, type TrustedKey } from './keys.ts';
export { MANIFEST_FILE, SIGNATURE_FILE, MANIFEST_FORMAT, RELEASE_ARCHES, parseManifest, ManifestError, type ReleaseManifest, type ReleaseArch, type ManifestFile, type NativePart } from './manifest.ts';
