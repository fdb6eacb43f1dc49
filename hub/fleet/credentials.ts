/**
 * Where a node's credentials come from at adoption: one pluggable call. The default reads the
 * files a credentials store wrote for the node (`<credentials-dir>/<node id>/*`, e.g. a password,
 * a client certificate and key, the show CA) and sends them with the adoption; without a folder
 * the node is adopted without credentials and the output says so.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
      return { [ACCESS_FILE]: readFileSync(one, 'utf8') };
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
  describe(): string { return `credentials from ${this.dir}/<node id>/`; }
}
