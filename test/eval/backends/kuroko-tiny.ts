/**
 * The shipped node model as the ensemble's backend, for `npm run eval -- --backend
 * module:test/eval/backends/kuroko-tiny.ts`: what the ensemble makes of a 1.35 M-parameter model.
 */
import { fileURLToPath } from 'node:url';
import { createBackend as create } from '../../../hub/llm/create-backend.ts';
import type { TextBackend } from '../../../hub/llm/types.ts';

export function createBackend(): TextBackend {
  return create({ kind: 'onnx', model: fileURLToPath(new URL('../../../models/kuroko-tiny', import.meta.url)), executionProvider: 'cpu', dtype: 'int8', timeBudgetMs: 1500 });
}
