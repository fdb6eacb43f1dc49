/** IDs (shows, nodes, characters, scenes, cues, sensors) are lower-case, as Homie requires: [a-z0-9-]. */
export const ID_PATTERN = '^[a-z0-9][a-z0-9-]{0,62}$';
const idRe = new RegExp(ID_PATTERN);
export function isId(s: unknown): s is string {
  return typeof s === 'string' && idRe.test(s);
}
/** Explains a bad id in words an operator can act on. */
export function checkId(what: string, s: unknown): string {
  if (!isId(s)) {
    throw new Error(`${what} ${JSON.stringify(s)} is not a valid id: use 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit`);
  }
  return s;
}
