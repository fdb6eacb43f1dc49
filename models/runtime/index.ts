/**
 * Public API of the Kuroko model runtime, used by the edge node (ad-lib, reactions) and the
 * hub's local backend. Everything runs offline on onnxruntime-node.
 */
import { fileURLToPath } from 'node:url';

export {
  CausalLM,
  loadCausalLM,
  ONNX_FILES,
  type GenerateOptions,
  type GenerationChunk,
  type GenerationResult,
  type LoadOptions,
  type LoadProgress,
  type ModelDtype,
  type StopReason,
} from './causal-lm.ts';
export { JsonSchemaMachine, type TokenConstraint } from './json-constraint.ts';
export { ModelConfigError, ModelFileError } from './errors.ts';
export { ModelManifestSchema, readManifest, verifyManifestFiles, sha256File, type ModelManifest } from './manifest.ts';
export { type ExecutionProvider } from './session.ts';
export { type SamplingOptions } from './sampler.ts';
export { ADLIB_STOP, adlibPrompt, extractLine, formatLine, speakerCue, speakerPrefix, type Character } from './prompt.ts';
export { heldOutLoss, type LossResult } from './perplexity.ts';

/** The project's shipped bilingual (English/Japanese) play-dialogue model; loads int8 by default. */
export const DEFAULT_NODE_MODEL_DIR: string = fileURLToPath(new URL('../kuroko-tiny/', import.meta.url));
