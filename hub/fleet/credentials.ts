/**
 * Where a node's credentials come from at adoption: one pluggable call. The default reads the
 * files a credentials store wrote for the node (`<credentials-dir>/<node id>/*`, e.g. a password,
 * a client certificate and key, the show CA) and sends them with the adoption; without a folder
 * the node is adopted without credentials and the output says so.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { AGENT_TLS_FILES, agentTlsName } from '../../protocol/agent-api.ts';

/** The name a `kuroko access` credentials file travels under; the agent hands it to `kuroko edge --credentials`. */
export const ACCESS_FILE = 'kuroko-access.json';

export interface CredentialIssuer {
  /** Files by name for this node, or undefined for none. */
  issue(nodeId: string): Promise<Record<string, string> | undefined>;
  describe(): string;
}

export class NoCredentials implements CredentialIssuer {
  async issue(): Promise<undefined> { return undefined; }
  describe(): string { return 'no credentials store given (--credentials-dir): nodes connect as the broker allows'; }
}

export class CredentialFolder implements CredentialIssuer {
  constructor(private readonly dir: string) {}
  async issue(nodeId: string): Promise<Record<string, string> | undefined> {
    // `kuroko access add --role node` writes one file per identity: clients/<id>.json.
    const one = join(this.dir, `${nodeId}.json`);
    if (existsSync(one) && statSync(one).isFile()) {
      if (statSync(one).size > 16384) throw new Error(`${one} is larger than 16 KB: not a credentials file`);
      return { [ACCESS_FILE]: readFileSync(one, 'utf8'), ...(await this.agentTls(nodeId)) };
    }
    const d = join(this.dir, nodeId);
    if (!existsSync(d)) throw new Error(`no credentials for ${nodeId} in ${this.dir} (neither ${nodeId}.json nor ${nodeId}/): issue them first (kuroko access add --show SHOW --id ${nodeId} --role node --node ${nodeId}), or adopt without --credentials-dir`);
    const files: Record<string, string> = {};
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (!statSync(p).isFile()) continue;
      if (statSync(p).size > 16384) throw new Error(`${p} is larger than 16 KB: not a credential file`);
      files[f] = readFileSync(p, 'utf8');
    }
    return files;
  }
  describe(): string {
    return `credentials from ${this.dir}/<node id>/${this.store() ? '; the agents get an HTTPS certificate from the show CA (pinned in the fleet folder)' : ''}`;
  }

  /** The credentials store around a clients/ folder (`kuroko access` writes clients/ inside it), when its CA key is here. */
  private store(): string | null {
    const storeDir = dirname(resolve(this.dir));
    return basename(resolve(this.dir)) === 'clients' && existsSync(join(storeDir, 'ca.key')) && existsSync(join(storeDir, 'ca.crt')) ? storeDir : null;
  }

  /** The agent's HTTPS certificate and key from the show CA, and the CA the fleet then pins. */
  private async agentTls(nodeId: string): Promise<Record<string, string>> {
    const storeDir = this.store();
    if (!storeDir) return {};
    const { createAgentCert } = await import('../access/certs.ts');
    const ca = { cert: readFileSync(join(storeDir, 'ca.crt'), 'utf8'), key: readFileSync(join(storeDir, 'ca.key'), 'utf8') };
    const pair = await createAgentCert(ca, nodeId, agentTlsName(nodeId));
    return { [AGENT_TLS_FILES.cert]: pair.cert, [AGENT_TLS_FILES.key]: pair.key, [AGENT_TLS_FILES.ca]: ca.cert };
  }
}
