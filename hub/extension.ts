/**
 * What attaches to the hub — the ensemble, the page, metrics, OSC — is an extension (after
 * Zigbee2MQTT's lib/extension/): it has a name, starts and stops with the hub, listens to the hub's
 * typed events (hub-events.ts) and calls its methods; it never assigns a hub field. The hub starts
 * extensions after it is connected, in the order they were added, and stops them in reverse.
 */
import type { ExternalCueRunner } from './playback.ts';

export interface HubExtension {
  readonly name: string;
  start?(): void | Promise<void>;
  stop?(): void | Promise<void>;
  /** Performs the cues a show file leaves to the hub's engine (improv, council); at most one extension does. */
  readonly cueRunner?: ExternalCueRunner;
}
