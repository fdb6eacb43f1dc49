/**
 * Where a compiled JSON Schema validator comes from. `npm run build` writes Ajv's standalone code
 * for every contract payload and document schema next to this file in dist/
 * (precompiled-{set}-validators.cjs, made by bin/build-validators.ts): a compiled node or hub
 * loads those functions instead of compiling schemas at start, and never loads Ajv's compiler
 * (Ajv compilation was most of a node's start-up time). Each precompiled function is found by a
 * hash of its option set and the schema's JSON, so a schema that changed since the build simply
 * misses and is compiled here at run time, as it always is under tsx (no precompiled files there).
 * test/protocol/precompiled-validators.test.ts shows both paths accept and refuse the same payloads
 * with the same errors.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Ajv, Options, ValidateFunction } from 'ajv';

/** The Ajv options of each kind of validation; both paths compile with exactly these. */
export const VALIDATOR_OPTIONS = {
  // Payloads on the wire: the first error is enough; verbose: an error carries the bad value, so the message can show it.
  payload: { allErrors: false, strict: false, verbose: true },
  // YAML documents (profiles, shows, backend configs): every error, each placed at its line.
  document: { allErrors: true, strict: false, useDefaults: false, verbose: true },
} as const satisfies Record<string, Options>;
export type ValidatorSet = keyof typeof VALIDATOR_OPTIONS;

/** The export name of a schema's precompiled function: option set + schema JSON, hashed. */
export function validatorKey(set: ValidatorSet, schema: object): string {
  return 'v' + createHash('sha256').update(`${set}\0${JSON.stringify(schema)}`).digest('hex').slice(0, 32);
}

export const precompiledFile = (set: ValidatorSet): string => `precompiled-${set}-validators.cjs`;

const require = createRequire(import.meta.url);
const precompiled = new Map<ValidatorSet, Record<string, ValidateFunction> | null>();
function precompiledSet(set: ValidatorSet): Record<string, ValidateFunction> | null {
  if (!precompiled.has(set)) {
    let mod: Record<string, ValidateFunction> | null = null;
    // KUROKO_VALIDATORS=runtime compiles at start even in dist/ (npm run bench:startup's baseline).
    if (process.env.KUROKO_VALIDATORS !== 'runtime') try {
      mod = require(`./${precompiledFile(set)}`) as Record<string, ValidateFunction>;
    } catch (e) {
      // Absent (sources under tsx): compile at run time. Anything else is a broken build: say so.
      if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    }
    precompiled.set(set, mod);
  }
  return precompiled.get(set)!;
}

const compilers = new Map<ValidatorSet, Ajv>();
/** Compiles a schema with Ajv now (loaded only when first needed). */
export function runtimeValidator(schema: object, set: ValidatorSet): ValidateFunction {
  let ajv = compilers.get(set);
  if (!ajv) {
    const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
    ajv = new AjvClass({ ...VALIDATOR_OPTIONS[set] });
    compilers.set(set, ajv);
  }
  return ajv.compile(schema);
}

/** The validator for a schema: the build's precompiled function when there is one, else compiled now. */
export function compileValidator(schema: object, set: ValidatorSet): ValidateFunction {
  return precompiledSet(set)?.[validatorKey(set, schema)] ?? runtimeValidator(schema, set);
}
