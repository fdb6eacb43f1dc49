/**
 * The hub's and the demo's security flags. Secure by default: without --insecure the hub uses the
 * show's credentials store (var/access/SHOW unless --access DIR), creating it on first run, and its
 * embedded broker requires a user name and password and serves TLS on 8883.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { UsageError } from '../../bin/errors.ts';
import type { ShowT } from '../show/schema.ts';
import { AccessStore } from './store.ts';
import type { HubSecurityOptions } from './hub-security.ts';
import { securityFromBundle } from '../../protocol/credentials.ts';

export const HUB_SECURITY_OPTIONS = {
  access: { type: 'string' },
  insecure: { type: 'boolean', default: false },
  'tls-port': { type: 'string' },
  bind: { type: 'string' },
  ca: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' },
} as const;

export const HUB_SECURITY_HELP = `  --access DIR       the show's credentials store (default var/access/SHOW; created on first run:
                     see kuroko access --help)
  --tls-port N       MQTT over TLS port of the embedded broker (default 8883; 0 = any free port)
  --bind ADDR        address the embedded broker's TLS listener binds (default: all; plain MQTT
                     is on 127.0.0.1 only unless --insecure)
  --ca FILE --cert FILE --key FILE   PEM files for --broker mqtts://… (default: the store's CA)
  --insecure         no user names, no TLS, no signed control messages (a test bench only;
                     warns at every start; KUROKO_INSECURE=1 does the same for test suites)`;

export interface HubSecurityFlags {
  access?: string;
  insecure?: boolean;
  'tls-port'?: string;
  bind?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

export interface ResolvedHubSecurity {
  options?: HubSecurityOptions;
  store?: AccessStore;
  /** Lines for the operator's terminal: where the credentials are, or the insecure warning. */
  notes: string[];
}

export const INSECURE_WARNING = 'WARNING: --insecure: anyone who can reach this broker can arm and move the robots. Use it on a private test bench only.';

export async function resolveHubSecurity(flags: HubSecurityFlags, show: ShowT, log: Logger): Promise<ResolvedHubSecurity> {
  const pem = (f: string | undefined) => (f ? readFileSync(f, 'utf8') : undefined);
  if (flags.insecure || process.env.KUROKO_INSECURE === '1') {
    log.warn(INSECURE_WARNING);
    const tls = { ca: pem(flags.ca), cert: pem(flags.cert), key: pem(flags.key) };
    const client = Object.fromEntries(Object.entries(tls).filter(([, v]) => v));
    return { options: Object.keys(client).length ? { client } : undefined, notes: [INSECURE_WARNING] };
  }
  const dir = flags.access ?? AccessStore.defaultDir(show.show);
  const notes: string[] = [];
  let store: AccessStore;
  if (AccessStore.exists(dir)) {
    store = AccessStore.load(dir);
    if (store.show !== show.show) throw new UsageError(`--access ${dir}: this credentials store is for show "${store.show}", not "${show.show}"; pass --access var/access/${show.show}`);
  } else {
    store = await AccessStore.init(dir, show.show, [...new Set(show.cast.map((c) => c.node))]);
    notes.push(`created credentials for show ${show.show} in ${store.dir} (one file per identity in clients/)`);
  }
  const missing = show.cast.filter((c) => !store.get(c.node) || store.get(c.node)?.revoked).map((c) => c.node);
  if (missing.length) notes.push(`note: no active credentials for node(s) ${missing.join(', ')}: kuroko access add --show SHOW.yaml --role node --id NODE`);
  let tlsPort: number | undefined;
  if (flags['tls-port'] !== undefined) {
    tlsPort = Number(flags['tls-port']);
    if (!Number.isInteger(tlsPort) || tlsPort < 0 || tlsPort > 65535) throw new UsageError(`--tls-port ${flags['tls-port']} is not a port number (0-65535)`);
  }
  const client = { ...securityFromBundle(store.readBundle('hub')), ...(flags.ca ? { ca: pem(flags.ca) } : {}), ...(flags.cert ? { cert: pem(flags.cert) } : {}), ...(flags.key ? { key: pem(flags.key) } : {}) };
  return { options: { store, client, tlsPort, ...(flags.bind ? { tlsHost: flags.bind } : {}) }, store, notes };
}
