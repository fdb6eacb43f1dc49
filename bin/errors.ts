/** An error in what the user typed or wrote (a flag, a file): printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * node:util parseArgs errors in a person's words: "unknown option --x (see kuroko CMD --help)".
 * Node's own text for an unknown option adds advice about positional arguments that does not
 * apply to kuroko's commands.
 */
export function flagErrorMessage(command: string, err: Error & { code?: string }): string {
  const m = /Unknown option '([^']+)'/.exec(err.message);
  const what = m ? `unknown option ${m[1]}` : err.message.replace(/\.$/, '');
  return `kuroko ${command}: ${what} (see kuroko ${command} --help)`;
}
