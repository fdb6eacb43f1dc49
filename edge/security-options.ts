/**
 * The edge's security flags: a node runs with its credentials file (written by `kuroko access`)
 * unless --insecure says otherwise, and then it says so at every start.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { UsageError } from '../bin/errors.ts';
import { loadBundle, securityFromBundle, type ClientSecurity } from '../protocol/credentials.ts';

export const SECURITY_HELP = `  --credentials FILE this node's credentials (user, password, CA, certificate, show key), written by
                     kuroko access init as var/access/SHOW/clients/NODE.json; required unless --insecure
  --ca FILE --cert FILE --key FILE   PEM files overriding the CA / client certificate of the credentials
  --insecure         connect without credentials to an open broker (a test bench only; warns at start)
                     (the environment variable KUROKO_INSECURE=1 does the same, for test suites)`;

export interface SecurityFlags {
  credentials?: string;
  ca?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
}

export function insecureRequested(flags: SecurityFlags): boolean {
  return !!flags.insecure || process.env.KUROKO_INSECURE === '1';
}

export function nodeSecurity(flags: SecurityFlags, node: string, log: Logger): ClientSecurity | undefined {
  const pem = (f: string | undefined) => (f ? readFileSync(f, 'utf8') : undefined);
  if (!flags.credentials) {
    if (!insecureRequested(flags)) {
      throw new UsageError(`no credentials: pass --credentials var/access/SHOW/clients/${node}.json (made by kuroko access init --show SHOW.yaml), or --insecure on an open test broker`);
    }
    // On stderr whatever the log level: an open node must never go unnoticed.
    console.error(`WARNING: --insecure: node ${node} connects without credentials and obeys unsigned control messages; a private test bench only.`);
    log.debug('insecure mode');
    const tls = { ca: pem(flags.ca), cert: pem(flags.cert), key: pem(flags.key) };
    return tls.ca || tls.cert ? Object.fromEntries(Object.entries(tls).filter(([, v]) => v)) as ClientSecurity : undefined;
  }
  const bundle = loadBundle(flags.credentials);
  if (bundle.role !== 'node' || bundle.node !== node) {
    throw new UsageError(`${flags.credentials}: these are the credentials of ${bundle.role} "${bundle.id}", not of node "${node}"; use var/access/SHOW/clients/${node}.json`);
  }
  const s = securityFromBundle(bundle);
  return { ...s, ...(flags.ca ? { ca: pem(flags.ca) } : {}), ...(flags.cert ? { cert: pem(flags.cert) } : {}), ...(flags.key ? { key: pem(flags.key) } : {}) };
}
