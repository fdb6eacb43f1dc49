/**
 * The model manifest (manifest.json beside config.json): what the project promises about a
 * shipped model folder. Checked before loading so a truncated download or a hand-edited file
 * fails with the file name and the sha256 it should have, instead of an ONNX parse error.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ModelConfigError, ModelFileError } from './errors.ts';

export const ManifestFileSchema = Type.Object({
  path: Type.String({ description: 'relative to the model folder, forward slashes' }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  bytes: Type.Integer({ minimum: 0 }),
});

export const ModelManifestSchema = Type.Object(
  {
    name: Type.String(),
    description: Type.String(),
    architecture: Type.String(),
    parameters: Type.Integer(),
    vocabSize: Type.Integer(),
    contextLength: Type.Integer(),
    defaultDtype: Type.Union([Type.Literal('fp32'), Type.Literal('int8')]),
    files: Type.Array(ManifestFileSchema),
  },
  { additionalProperties: true },
);
export type ModelManifest = Static<typeof ModelManifestSchema>;

export const MANIFEST_FILE = 'manifest.json';

export async function fileExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Returns the manifest, or undefined when the folder has none (e.g. a third-party optimum export). */
export async function readManifest(dir: string): Promise<ModelManifest | undefined> {
  const path = join(dir, MANIFEST_FILE);
  if (!(await fileExists(path))) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ModelConfigError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Value.Check(ModelManifestSchema, parsed)) {
    const first = [...Value.Errors(ModelManifestSchema, parsed)][0];
    throw new ModelConfigError(`${path} does not match the manifest schema: ${first?.path} ${first?.message}`);
  }
  return parsed;
}

/**
 * Checks that each listed file (all of them, or only `only`) exists with the recorded sha256.
 * Throws ModelFileError naming the first bad file.
 */
export async function verifyManifestFiles(dir: string, manifest: ModelManifest, only?: readonly string[]): Promise<void> {
  const wanted = only ? manifest.files.filter((f) => only.includes(f.path)) : manifest.files;
  for (const f of wanted) {
    const full = join(dir, f.path);
    if (!(await fileExists(full))) throw new ModelFileError('missing', full, f.sha256);
    const actual = await sha256File(full);
    if (actual !== f.sha256) throw new ModelFileError('corrupt', full, f.sha256, actual);
  }
}

export function expectedSha(manifest: ModelManifest | undefined, relPath: string): string | undefined {
  return manifest?.files.find((f) => f.path === relPath)?.sha256;
}
