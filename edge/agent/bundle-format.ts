/** Adapts the release bundle API (kuroko release) to the agent's ReleaseFormat. */
import type { ReleaseFormat } from './release-format.ts';

export function releaseFormat(): ReleaseFormat {
  throw new Error('release bundles are not available in this build');
}
