/** An error in what the user typed or wrote (a flag, a file): printed without a stack, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
