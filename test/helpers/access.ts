/**
 * Credentials for tests: a temporary store made exactly as `kuroko access init` makes it, and
 * clients that log in with one of its identities.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient, type IClientOptions } from 'mqtt';
import { AccessStore } from '../../hub/access/store.ts';
import { mqttSecurityOptions, securityFromBundle } from '../../protocol/credentials.ts';

/** A fresh credentials store in a temporary directory: hub, one node per id, operator, viewer. */
export async function tempStore(show: string, nodes: string[]): Promise<AccessStore> {
  return AccessStore.init(mkdtempSync(join(tmpdir(), 'kuroko-access-')), show, nodes);
}

/** Connects as an identity of the store (or anonymously with id null); rejects when the broker refuses. */
export async function clientAs(url: string, store: AccessStore | null, id: string | null, extra: IClientOptions = {}): Promise<MqttClient> {
  const sec = store && id ? mqttSecurityOptions(securityFromBundle(store.readBundle(id)), url) : {};
  const ca = store && url.startsWith('mqtts') ? { ca: store.readBundle('hub').ca } : {};
  const c = connect(url, { clean: true, reconnectPeriod: 0, connectTimeout: 8000, ...ca, ...sec, ...extra });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', (e) => { c.end(true); reject(e); });
    c.once('close', () => reject(new Error('connection closed before CONNACK')));
  });
  return c;
}
