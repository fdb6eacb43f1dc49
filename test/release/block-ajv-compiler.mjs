// Loaded with --import by test/release/build.test.ts: loading Ajv's schema compiler (the `ajv`
// package's entry, by import or require) fails loudly, which proves compiled processes use the
// build's precompiled validators (protocol/validators.ts). Ajv's small runtime helpers stay allowed.
import { register, createRequire } from 'node:module';
const Module = createRequire(import.meta.url)('node:module');
const isCompiler = (s) => s === 'ajv' || s === 'ajv/dist/ajv' || s === 'ajv/dist/ajv.js' || s === 'ajv/dist/core' || s === 'ajv/dist/core.js';
const load = Module._load;
Module._load = function (request, ...rest) {
  if (isCompiler(request)) throw new Error(`Ajv's compiler was loaded by the compiled build: require(${request})`);
  return load.call(this, request, ...rest);
};
register('data:text/javascript,' + encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if ((${isCompiler.toString()})(specifier)) throw new Error("Ajv's compiler was loaded by the compiled build: import " + specifier);
  return next(specifier, context);
}`));
