/**
 * Loads a YAML document and checks it against a JSON Schema, reporting each error with the
 * file, line and field, e.g. `shows/blade.yaml:12:7 scenes[0].cues[2].kind: must be one of ...`.
 * Shared by the hub (show files) and the edge (hardware profiles).
 */
import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { compileValidator } from './validators.ts';
import { parseDocument, LineCounter, isMap, isSeq, type Node as YamlNode } from 'yaml';
import type { TSchema } from '@sinclair/typebox';

export class DocumentError extends Error {
  constructor(public readonly file: string, public readonly problems: string[]) {
    super(`${file} is invalid:\n  ${problems.join('\n  ')}`);
    this.name = 'DocumentError';
  }
}

// Every error, each carrying its bad value (protocol/validators.ts: precompiled in dist/).
const cache = new WeakMap<object, ValidateFunction>();

function fieldPath(instancePath: string): string[] {
  return instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
function pretty(path: string[]): string {
  return path.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '') || '(top level)';
}

function explain(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': return `unknown field "${p.additionalProperty}" (check its spelling and indentation)`;
    case 'required': return `missing required field "${p.missingProperty}"`;
    case 'const': return `must be ${JSON.stringify(p.allowedValue)}`;
    case 'enum': return `must be one of ${JSON.stringify(p.allowedValues)}`;
    case 'pattern': return `"${String(e.data)}" does not match ${p.pattern}` + (String(p.pattern).includes('a-z0-9') ? ' (ids use a-z, 0-9 and -)' : '');
    default: return e.message ?? 'is invalid';
  }
}

/** Collapses anyOf noise: for a union, keep the errors of the branch that got furthest. */
function usefulErrors(errors: ErrorObject[]): ErrorObject[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const kept: ErrorObject[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (e.keyword === 'anyOf') continue;
    // A const/type mismatch on a discriminator inside a union is noise when other branches matched further.
    if (anyOfPaths.has(e.instancePath) && (e.keyword === 'type' || e.keyword === 'const')) continue;
    const key = `${e.instancePath}|${explain(e)}`;
    if (!seen.has(key)) { seen.add(key); kept.push(e); }
  }
  // If everything was noise (a value that matches no branch at all), say so once per place.
  if (kept.length === 0) {
    for (const path of anyOfPaths) kept.push({ keyword: 'anyOf', instancePath: path, schemaPath: '', params: {}, message: 'matches none of the allowed forms' } as ErrorObject);
  }
  return kept;
}

/** Finds the YAML node for a field path, to report its line and column. */
function locate(root: YamlNode | null, path: string[]): YamlNode | null {
  let node: YamlNode | null = root;
  let best = root;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => String((it.key as { value?: unknown })?.value ?? it.key) === key);
      node = (pair?.value as YamlNode) ?? (pair?.key as YamlNode) ?? null;
    } else if (isSeq(node)) {
      node = (node.items[Number(key)] as YamlNode) ?? null;
    } else node = null;
    if (!node) break;
    best = node;
  }
  return best;
}

export interface LoadedDocument<T> { value: T; text: string; file: string }

/** Parses YAML text and validates it; throws DocumentError naming file, line and field. */
export function parseYamlDocument<T>(file: string, text: string, schema: TSchema, extraChecks?: (v: T) => string[]): LoadedDocument<T> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new DocumentError(file, doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${file}:${pos ? `${pos.line}:${pos.col}` : '?'} YAML syntax: ${e.message.split('\n')[0]}`;
    }));
  }
  const value = doc.toJS() as unknown;
  let validate = cache.get(schema);
  if (!validate) { validate = compileValidator(schema, 'document'); cache.set(schema, validate); }
  if (!validate(value)) {
    const problems = usefulErrors(validate.errors ?? []).slice(0, 20).map((e) => {
      const path = fieldPath(e.instancePath);
      const node = locate(doc.contents as YamlNode | null, path);
      const pos = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
      return `${file}:${pos ? `${pos.line}:${pos.col}` : '?'} ${pretty(path)}: ${explain(e)}`;
    });
    throw new DocumentError(file, problems);
  }
  const extra = extraChecks?.(value as T) ?? [];
  if (extra.length) throw new DocumentError(file, locateIn(file, doc.contents as YamlNode | null, lineCounter, extra));
  return { value: value as T, text, file };
}

/** "[scenes.0.cues.1] message" → "file:line:col scenes[0].cues[1]: message" (other messages get the file name). */
function locateIn(file: string, root: YamlNode | null, lineCounter: LineCounter, problems: string[]): string[] {
  return problems.map((msg) => {
    const m = /^\[([^\]]*)\]\s*(.*)$/.exec(msg);
    if (!m) return `${file}: ${msg}`;
    const path = m[1]!.split('.').filter(Boolean);
    const node = locate(root, path);
    const pos = node?.range ? lineCounter.linePos(node.range[0]) : undefined;
    return `${file}:${pos ? `${pos.line}:${pos.col}` : '?'} ${pretty(path)}: ${m[2]}`;
  });
}

/** Places problems found after loading (checks across files) at their line and column in the document text. */
export function locateProblems(file: string, text: string, problems: string[]): string[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  return locateIn(file, doc.contents as YamlNode | null, lineCounter, problems);
}

export function loadYamlDocument<T>(file: string, schema: TSchema, extraChecks?: (v: T) => string[]): LoadedDocument<T> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new DocumentError(file, [`${file}: cannot read the file (${err.code === 'ENOENT' ? 'it does not exist; check the path' : err.message})`]);
  }
  return parseYamlDocument(file, text, schema, extraChecks);
}
