/**
 * Reads a backend configuration file (`--llm FILE`, YAML or JSON), with errors that name the
 * file, line and field, and builds the backend it describes.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { loadYamlDocument } from '../../protocol/yaml-document.ts';
import { BackendConfigSchema, type BackendConfig } from './config.ts';

export function loadBackendConfig(file: string): BackendConfig {
  const config = loadYamlDocument<BackendConfig>(file, BackendConfigSchema).value;
  // A model path in the file is relative to the file, so configs work from any directory.
  if ((config.kind === 'onnx' || config.kind === 'gguf') && !isAbsolute(config.model)) config.model = resolve(dirname(file), config.model);
  return config;
}

/** The prompt style that suits a backend: small play-dialogue models continue a script; chat models answer JSON. */
export function promptStyleFor(config: BackendConfig): 'play' | 'json' {
  if (config.kind === 'gguf') return config.promptStyle ?? 'json';
  return config.kind === 'openai' ? 'json' : 'play';
}
