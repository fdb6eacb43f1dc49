/**
 * A client's credentials file (clients/{id}.json, written by `kuroko access`), and the MQTT
 * connection options made from it: user name and password, the show CA to check the broker over
 * mqtts://, a node's client certificate, and the show key for signed control messages.
 * Shared by hub and edge, so it lives with the contract.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Role } from './access.ts';

/** What a client needs to connect: the file `kuroko access` writes to clients/{id}.json. */
export interface ClientBundle {
  v: 1;
  show: string;
  id: string;
  role: Role;
  node?: string;
  username: string;
  password: string;
  /** PEM of the show CA, to check the broker's certificate over mqtts://. */
  ca: string;
  /** A node's client certificate and key (PEM). */
  cert?: string;
  key?: string;
  /** The show key (base64), for the hub (signs) and nodes (verify). */
  showKey?: string;
}

export function loadBundle(file: string): ClientBundle {
  if (!existsSync(file)) throw new Error(`${file}: no such credentials file; kuroko access init (or add) writes one per identity under var/access/{show}/clients/`);
  let b: ClientBundle;
  try {
    b = JSON.parse(readFileSync(file, 'utf8')) as ClientBundle;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); get a fresh one with kuroko access rotate --id ID`);
  }
  if (b.v !== 1 || typeof b.username !== 'string' || typeof b.password !== 'string' || typeof b.ca !== 'string') {
    throw new Error(`${file}: not a Kuroko credentials file (v, username, password, ca); get a fresh one with kuroko access rotate --id ID`);
  }
  return b;
}

/** Connection security for one MQTT client; every field optional (an --insecure stage has none). */
export interface ClientSecurity {
  username?: string;
  password?: string;
  /** PEM (not paths): the CA that signed the broker's certificate, and a client certificate and key. */
  ca?: string;
  cert?: string;
  key?: string;
  /** The show key: the hub signs control messages with it, nodes verify them. */
  showKey?: Buffer;
}

export function securityFromBundle(b: ClientBundle): ClientSecurity {
  return {
    username: b.username, password: b.password, ca: b.ca,
    ...(b.cert ? { cert: b.cert } : {}), ...(b.key ? { key: b.key } : {}),
    ...(b.showKey ? { showKey: Buffer.from(b.showKey, 'base64') } : {}),
  };
}

/**
 * The part of mqtt.js connect options that carries the security. TLS material goes only with an
 * mqtts:// (or wss://) URL: mqtt.js would otherwise switch a plain mqtt:// URL to TLS by itself.
 */
export function mqttSecurityOptions(s: ClientSecurity | undefined, url: string): Record<string, unknown> {
  if (!s) return {};
  const login = {
    ...(s.username !== undefined ? { username: s.username } : {}),
    ...(s.password !== undefined ? { password: s.password } : {}),
  };
  if (!/^(mqtts|wss):/.test(url)) return login;
  return {
    ...login,
    ...(s.ca ? { ca: s.ca, rejectUnauthorized: true } : {}),
    ...(s.cert ? { cert: s.cert } : {}),
    ...(s.key ? { key: s.key } : {}),
  };
}

/** The endpoint's `tls` option for this URL: only for mqtts:// (or wss://), from the CA and client certificate held. */
export function tlsForUrl(s: ClientSecurity, url: string): { tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean } } {
  if (!/^(mqtts|wss):/.test(url) || !(s.ca || s.cert)) return {};
  return { tls: { ...(s.ca ? { ca: s.ca } : {}), ...(s.cert ? { cert: s.cert } : {}), ...(s.key ? { key: s.key } : {}), rejectUnauthorized: true } };
}
