import { DEFAULT_NODE_MODEL_DIR, loadCausalLM, type CausalLM, type ModelDtype } from '../../models/runtime/index.ts';
import pino from 'pino';

export const quiet = pino({ level: 'silent' });
const cache = new Map<string, Promise<CausalLM>>();

/** One session per dtype per test file: loading is the slow part. */
export function shippedModel(dtype: ModelDtype = 'int8'): Promise<CausalLM> {
  if (!cache.has(dtype)) cache.set(dtype, loadCausalLM(DEFAULT_NODE_MODEL_DIR, { dtype, threads: 1, logger: quiet }));
  return cache.get(dtype)!;
}
