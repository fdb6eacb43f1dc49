/**
 * Reads a backend configuration file (`--llm FILE`, YAML or JSON), with errors that name the
 * file, line and field, and builds the backend it describes.
 */
import { loadYamlDocument } from '../../protocol/yaml-document.ts';
import { BackendConfigSchema, type BackendConfig } from './config.ts';

export function loadBackendConfig(file: string): BackendConfig {
  return loadYamlDocument<BackendConfig>(file, BackendConfigSchema).value;
}

/** The prompt style that suits a backend: small play-dialogue models continue a script; chat models answer JSON. */
export function promptStyleFor(config: BackendConfig): 'play' | 'json' {
  return config.kind === 'openai' ? 'json' : 'play';
}
