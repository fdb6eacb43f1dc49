/**
 * The build's precompiled validators (Ajv standalone code, bin/build-validators.ts) accept and
 * refuse exactly what the validators compiled at run time do, with the same errors: every
 * contract payload schema and every document schema, on generated valid payloads, the shipped
 * profiles, shows and backend configs, and thousands of damaged copies of them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ValidateFunction } from 'ajv';
import { ROOT } from '../helpers/stage.ts';
import { precompiledSchemas, writePrecompiledValidators } from '../../bin/build-validators.ts';
import { Profile } from '../../firmware-config/profile-schema.ts';
import { Show } from '../../hub/show/schema.ts';
import { BackendConfigSchema } from '../../hub/llm/config.ts';
import { runtimeValidator, validatorKey, precompiledFile, type ValidatorSet } from '../../protocol/validators.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;

/** A value shaped by the schema; `branch` picks which member of every union to follow. */
function sample(s: Schema, branch: number, depth = 0): Json {
  if (depth > 12) return null;
  if ('const' in s) return s.const as Json;
  if (Array.isArray(s.enum)) return s.enum[branch % s.enum.length] as Json;
  const union = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (union) return sample(union[branch % union.length]!, branch, depth + 1);
  if (Array.isArray(s.allOf)) return Object.assign({}, ...(s.allOf as Schema[]).map((x) => sample(x, branch, depth + 1)));
  switch (s.type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      return Object.fromEntries(Object.entries(props).map(([k, p]) => [k, sample(p, branch, depth + 1)]));
    }
    case 'array': return Array.from({ length: Math.max(1, Number(s.minItems ?? 1)) }, () => sample((s.items ?? {}) as Schema, branch, depth + 1));
    case 'string': {
      if (typeof s.pattern === 'string') {
        const re = new RegExp(s.pattern);
        return ['kenzaki', 'a', '0', 'x-1', '1.0.0', 'A', 'led-1', '#ff0000', '12:00', 'en', '/dev/ttyACM0', 'sha256:' + 'a'.repeat(64), 'a'.repeat(64)].find((c) => re.test(c)) ?? 'kenzaki';
      }
      return 'x'.repeat(Math.max(1, Number(s.minLength ?? 1)));
    }
    case 'number': case 'integer': {
      const min = typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum + 1 : 0;
      return typeof s.maximum === 'number' ? Math.min(min, s.maximum) : min;
    }
    case 'boolean': return branch % 2 === 0;
    case 'null': return null;
    default: return 'x';
  }
}

/** Every path in a value (objects and arrays), up to a limit. */
function paths(v: Json, limit: number, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (out.length >= limit || v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v)) {
    const p = [...at, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths(x as Json, limit, p, out);
  }
  return out;
}

const DAMAGE: ((x: Json) => Json | undefined)[] = [
  () => undefined, () => null, () => 'x', () => '', () => -1, () => 1.5, () => 1e12, () => true, () => [], () => ({}),
  (x) => (x && typeof x === 'object' && !Array.isArray(x) ? { ...x, unknownField: 1 } : x),
  (x) => (typeof x === 'string' ? x.toUpperCase() + ' /#' : x),
  (x) => (typeof x === 'string' ? 'y'.repeat(5000) : x),
];

/** The value and copies of it damaged at each path in each way (delete, wrong type, unknown field, …). */
function damaged(v: Json, limit: number): unknown[] {
  const out: unknown[] = [v, null, 42, 'text', [], {}];
  for (const p of paths(v, limit)) {
    for (const d of DAMAGE) {
      const copy = structuredClone(v) as Record<string | number, Json>;
      let parent = copy as Record<string | number, Json>;
      for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
      const last = p[p.length - 1]!;
      const nv = d(parent[last]!);
      if (nv === undefined) { if (Array.isArray(parent)) parent.splice(last as number, 1); else delete parent[last]; } else parent[last] = nv;
      out.push(copy);
    }
  }
  return out;
}

const yamlFiles = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.yaml')).map((f) => parse(readFileSync(join(ROOT, dir, f), 'utf8')) as Json);

let outDir: string;
let load: (set: ValidatorSet) => Record<string, ValidateFunction>;
beforeAll(() => {
  // Under the checkout, so the generated code finds ajv's small runtime helpers as it does in dist/.
  mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
  outDir = mkdtempSync(join(ROOT, 'node_modules/.cache/kuroko-validators-'));
  writePrecompiledValidators(outDir);
  const require = createRequire(join(outDir, 'protocol', 'x.cjs'));
  load = (set) => require(`./${precompiledFile(set)}`) as Record<string, ValidateFunction>;
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** Runs every value through both validators; returns how many each accepted. */
function compare(set: ValidatorSet, schema: object, values: unknown[]): { accepted: number; refused: number } {
  const pre = load(set)[validatorKey(set, schema)];
  expect(pre, `a precompiled ${set} validator for this schema`).toBeTypeOf('function');
  const rt = runtimeValidator(schema, set);
  let accepted = 0;
  for (const v of values) {
    const a = pre!(v);
    const b = rt(v);
    expect(a, `${set}: ${JSON.stringify(v)?.slice(0, 300)}`).toBe(b);
    expect(JSON.stringify(pre!.errors ?? null)).toBe(JSON.stringify(rt.errors ?? null));
    if (a) accepted++;
  }
  return { accepted, refused: values.length - accepted };
}

describe('precompiled validators (npm run build) against validators compiled at run time', () => {
  it('payloads: every contract schema accepts and refuses the same values with the same errors', () => {
    let accepted = 0, refused = 0;
    const schemas = precompiledSchemas().payload;
    expect(schemas.length).toBeGreaterThan(20);
    for (const schema of schemas) {
      const values = [0, 1, 2, 3].flatMap((b) => damaged(sample(schema as Schema, b), 200));
      const r = compare('payload', schema, values);
      accepted += r.accepted; refused += r.refused;
    }
    // The comparison exercised both outcomes, not only refusals.
    expect(accepted).toBeGreaterThan(schemas.length);
    expect(refused).toBeGreaterThan(1000);
  });

  it('documents: the shipped profiles, shows and backend configs, and damaged copies of them', () => {
    const cases: [object, Json[]][] = [
      [Profile, yamlFiles('firmware-config/profiles')],
      [Show, yamlFiles('hub/shows')],
      [BackendConfigSchema, yamlFiles('deploy/llm')],
    ];
    for (const [schema, docs] of cases) {
      expect(docs.length).toBeGreaterThan(0);
      const r = compare('document', schema, docs.flatMap((d) => damaged(d, 400)));
      // Every shipped document is valid, so both validators accepted at least those.
      expect(r.accepted).toBeGreaterThanOrEqual(docs.length);
      expect(r.refused).toBeGreaterThan(100);
    }
  });

  it('a schema changed after the build has no precompiled function (it is compiled at run time instead)', () => {
    const changed = { ...(Profile as object), description: 'edited after the build' };
    expect(load('document')[validatorKey('document', changed)]).toBeUndefined();
    expect(load('document')[validatorKey('document', Profile)]).toBeTypeOf('function');
  });
});
