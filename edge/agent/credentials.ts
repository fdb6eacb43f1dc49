/**
 * The credentials step of adoption, one pluggable call. The fleet sends what the credentials
 * store issued for this node (files by name: a password, a client certificate and key, the show
 * CA, a message-signing key); an installer puts them where the node reads them. Without any
 * (a broker that allows anonymous nodes), adoption goes on and says so.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './agent-state.ts';

export interface InstalledCredentials {
  message: string;
  /** The broker URL the node should use (e.g. with a username and password in it). */
  broker?: string;
  /** Arguments `kuroko edge` needs to use them (e.g. --credentials FILE). */
  edgeArgs?: string[];
}

export interface CredentialInstaller {
  install(nodeId: string, broker: string, files: Record<string, string> | undefined): Promise<InstalledCredentials>;
}

const FILE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** The `kuroko access` credentials file, as the fleet sends it (hub/fleet/credentials.ts). */
export const ACCESS_FILE = 'kuroko-access.json';

/** Writes each credential file (mode 0600) under `dir`; `username` + `password` go into the broker URL. */
export class FileCredentialInstaller implements CredentialInstaller {
  constructor(private readonly dir: string) {}

  async install(nodeId: string, broker: string, files: Record<string, string> | undefined): Promise<InstalledCredentials> {
    if (!files || Object.keys(files).length === 0) {
      return { message: 'no credentials given: the node connects as the broker allows (anonymous); issue them with kuroko access and adopt again' };
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    for (const [name, content] of Object.entries(files)) {
      if (!FILE_NAME.test(name)) throw new Error(`credential file name "${name.slice(0, 60)}" is not allowed (a-z, 0-9, . _ -)`);
      writeFileAtomic(join(this.dir, name), content, 0o600);
    }
    let url = broker;
    if (files.username && files.password) {
      const u = new URL(broker);
      u.username = encodeURIComponent(files.username.trim());
      u.password = encodeURIComponent(files.password.trim());
      url = u.toString();
    }
    // A `kuroko access` credentials file (user, password, CA, certificate, show key) is the node's own flag.
    const edgeArgs = files[ACCESS_FILE] ? ['--credentials', join(this.dir, ACCESS_FILE)] : undefined;
    return { message: `installed ${Object.keys(files).sort().join(', ')} for ${nodeId} in ${this.dir}`, broker: url, edgeArgs };
  }
}
