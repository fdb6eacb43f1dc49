// Loaded with --import by test/release/build.test.ts: any attempt to load tsx fails loudly, which
// proves the compiled build runs without it.
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(`
export async function resolve(specifier, context, next) {
  if (specifier === 'tsx' || specifier.startsWith('tsx/')) throw new Error('tsx was loaded by the compiled build: ' + specifier);
  return next(specifier, context);
}`));
