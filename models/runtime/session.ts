/** onnxruntime-node session creation; the execution provider is configuration, not code. */
import * as ort from 'onnxruntime-node';
import { ModelConfigError } from './errors.ts';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface SessionOptions {
  executionProvider?: ExecutionProvider;
  /** Intra-op threads (CPU). Default: onnxruntime's choice (all cores). On a Pi, 4. */
  threads?: number;
  /** Keep onnxruntime's CPU memory arena and memory patterns (faster, more RSS). Default false. */
  memoryArena?: boolean;
  /** CUDA device index. */
  deviceId?: number;
}

export async function createSession(modelPath: string, opts: SessionOptions): Promise<ort.InferenceSession> {
  const ep = opts.executionProvider ?? 'cpu';
  const executionProviders: ort.InferenceSession.ExecutionProviderConfig[] =
    ep === 'cuda' ? [{ name: 'cuda', deviceId: opts.deviceId ?? 0 }] : ['cpu'];
  try {
    return await ort.InferenceSession.create(modelPath, {
      executionProviders,
      graphOptimizationLevel: 'all',
      // onnxruntime-node rejects an explicit undefined: leave it out to get its default (all cores)
      ...(opts.threads !== undefined ? { intraOpNumThreads: opts.threads } : {}),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // The CPU arena keeps its high-water mark for the process's life and memory patterns
      // pre-plan buffers per input shape: both trade RSS for a little speed. A node's model
      // must fit a small board (<= 150 MB RSS with the tokenizer), so both are off by default.
      enableCpuMemArena: opts.memoryArena ?? false,
      enableMemPattern: opts.memoryArena ?? false,
    });
  } catch (err) {
    if (ep === 'cuda') {
      throw new ModelConfigError(
        `cannot start onnxruntime's CUDA execution provider for ${modelPath}: ${(err as Error).message}. ` +
          'The CUDA build of onnxruntime-node must be installed (npm install without ' +
          '--onnxruntime-node-install=skip on a machine with CUDA 12 and cuDNN 9), or use executionProvider "cpu".',
      );
    }
    throw err;
  }
}

export { ort };
