/**
 * The credentials store of a show (default var/access/{show}/), written by `kuroko access`:
 *   access.json      identities (id = MQTT username, role, node), scrypt hashes, the show key
 *   passwd, acl      Mosquitto password_file (PBKDF2-SHA512, its own "$7$" format) and acl_file
 *   mosquitto.conf   a runnable Mosquitto config using them (TLS on 8883, loopback plain 1883)
 *   ca.crt/.key      the show CA; server.crt/.key the broker certificate
 *   clients/{id}.json  one bundle per identity: username, password, CA (and a node's client
 *                    certificate and the show key): copy it to that machine, then delete it here
 * The password is kept only in the bundle; the store keeps hashes, so the broker side can leak
 * access.json without leaking a way in.
 */
import { scrypt as scryptCb, scryptSync, pbkdf2Sync, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, rmSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROLES, type Role, type Principal } from '../../protocol/access.ts';
import { isId } from '../../protocol/ids.ts';
import type { PemPair } from './certs.ts';
// The certificate code (and @peculiar/x509) loads only when certificates are made, not at every hub start.
const certs = () => import('./certs.ts');
import { mosquittoAcl, mosquittoConf } from './mosquitto.ts';
import { loadBundle, type ClientBundle } from '../../protocol/credentials.ts';

export { loadBundle, type ClientBundle };

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, o: object) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

export interface Identity {
  id: string;
  role: Role;
  node?: string;
  /** scrypt$N$r$p$salt$hash (base64) — checked by the embedded broker. */
  scrypt: string;
  /** The same password for Mosquitto's password_file ($7$ = PBKDF2-SHA512, 101 rounds, as mosquitto_passwd writes). */
  mosquitto: string;
  created: string;
  rotated?: string;
  revoked?: string;
}

interface AccessFile {
  v: 1;
  show: string;
  /** The per-show HMAC key for control messages (base64); delivered to the hub and nodes in their bundles. */
  showKey: string;
  identities: Identity[];
}

function atomicWrite(file: string, text: string, mode = 0o600): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
  chmodSync(file, mode);
}

function hashScrypt(password: string): string {
  const salt = randomBytes(16);
  const hash = scryptSync(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function hashMosquitto(password: string): string {
  const salt = randomBytes(12);
  return `$7$101$${salt.toString('base64')}$${pbkdf2Sync(password, salt, 101, 64, 'sha512').toString('base64')}`;
}

export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

export class AccessStore {
  private data: AccessFile;
  /** Verified passwords, so a reconnecting client does not pay scrypt again (sha256 of the password). */
  private readonly verified = new Map<string, Buffer>();

  private constructor(readonly dir: string, data: AccessFile) {
    this.data = data;
  }

  static defaultDir(show: string, cwd = process.cwd()): string {
    return join(cwd, 'var', 'access', show);
  }

  static exists(dir: string): boolean {
    return existsSync(join(dir, 'access.json'));
  }

  static load(dir: string): AccessStore {
    const file = join(dir, 'access.json');
    if (!existsSync(file)) throw new Error(`${file}: no credentials store here; create it with: kuroko access init --show SHOW.yaml --dir ${dir}`);
    let data: AccessFile;
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as AccessFile;
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message}); restore it from a backup or run kuroko access init --force`);
    }
    if (data.v !== 1 || !isId(data.show) || !Array.isArray(data.identities) || typeof data.showKey !== 'string') {
      throw new Error(`${file}: not a Kuroko credentials store (v, show, showKey, identities); run kuroko access init --force to make a new one`);
    }
    return new AccessStore(resolve(dir), data);
  }

  /** Creates the CA, the broker certificate, and the identities of a show: hub, one per node, operator, viewer. */
  static async init(dir: string, show: string, nodes: string[], o: { hosts?: string[]; force?: boolean } = {}): Promise<AccessStore> {
    if (AccessStore.exists(dir) && !o.force) throw new Error(`${dir}: a credentials store already exists; use kuroko access add/rotate/revoke, or init --force to replace it (every client then needs its new bundle)`);
    mkdirSync(join(dir, 'clients'), { recursive: true, mode: 0o700 });
    const { createCa, createServerCert } = await certs();
    const ca = await createCa(show);
    const server = await createServerCert(ca, o.hosts ?? []);
    atomicWrite(join(dir, 'ca.crt'), ca.cert, 0o644);
    atomicWrite(join(dir, 'ca.key'), ca.key);
    atomicWrite(join(dir, 'server.crt'), server.cert, 0o644);
    // Mosquitto reads the key as its own user: 0640, and chgrp mosquitto on a server (README).
    atomicWrite(join(dir, 'server.key'), server.key, 0o640);
    const store = new AccessStore(resolve(dir), { v: 1, show, showKey: randomBytes(32).toString('base64'), identities: [] });
    await store.add('hub', 'hub');
    for (const n of nodes) await store.add(n, 'node', n);
    await store.add('operator', 'operator');
    await store.add('viewer', 'viewer');
    return store;
  }

  get show(): string {
    return this.data.show;
  }

  get showKey(): Buffer {
    return Buffer.from(this.data.showKey, 'base64');
  }

  list(): Identity[] {
    return this.data.identities.map((i) => ({ ...i }));
  }

  get(id: string): Identity | undefined {
    return this.data.identities.find((i) => i.id === id);
  }

  /** Active principals (not revoked). */
  principals(): Principal[] {
    return this.data.identities.filter((i) => !i.revoked).map((i) => ({ id: i.id, role: i.role, ...(i.node ? { node: i.node } : {}) }));
  }

  bundleFile(id: string): string {
    return join(this.dir, 'clients', `${id}.json`);
  }

  readBundle(id: string): ClientBundle {
    return loadBundle(this.bundleFile(id));
  }

  async add(id: string, role: Role, node?: string): Promise<ClientBundle> {
    if (!isId(id)) throw new Error(`identity "${id}" is not a valid id: use a-z, 0-9 and '-' (it is the MQTT user name)`);
    if (!ROLES.includes(role)) throw new Error(`role "${role}" is not one of ${ROLES.join(', ')}`);
    if (role === 'node' && !isId(node)) throw new Error(`a node identity needs --node ID (the node id it may publish as)`);
    if (this.get(id)) throw new Error(`identity "${id}" already exists; use kuroko access rotate --id ${id} for a new password`);
    const now = new Date().toISOString();
    const ident: Identity = { id, role, ...(role === 'node' ? { node } : {}), scrypt: '', mosquitto: '', created: now };
    this.data.identities.push(ident);
    return this.issue(ident);
  }

  /** A new password (and a node's new certificate); the old ones stop working once the broker reloads. */
  async rotate(id: string): Promise<ClientBundle> {
    const ident = this.get(id);
    if (!ident) throw new Error(`no identity "${id}" (kuroko access list shows them)`);
    ident.rotated = new Date().toISOString();
    delete ident.revoked;
    return this.issue(ident);
  }

  revoke(id: string): void {
    const ident = this.get(id);
    if (!ident) throw new Error(`no identity "${id}" (kuroko access list shows them)`);
    ident.revoked = new Date().toISOString();
    this.verified.delete(id);
    rmSync(this.bundleFile(id), { force: true });
    this.save();
  }

  private async issue(ident: Identity): Promise<ClientBundle> {
    const password = newPassword();
    ident.scrypt = hashScrypt(password);
    ident.mosquitto = hashMosquitto(password);
    this.verified.delete(ident.id);
    const ca: PemPair = { cert: readFileSync(join(this.dir, 'ca.crt'), 'utf8'), key: readFileSync(join(this.dir, 'ca.key'), 'utf8') };
    const client = ident.role === 'node' ? await (await certs()).createClientCert(ca, ident.node!) : null;
    const bundle: ClientBundle = {
      v: 1, show: this.show, id: ident.id, role: ident.role, ...(ident.node ? { node: ident.node } : {}),
      username: ident.id, password, ca: ca.cert,
      ...(client ? { cert: client.cert, key: client.key } : {}),
      ...(ident.role === 'hub' || ident.role === 'node' ? { showKey: this.data.showKey } : {}),
    };
    atomicWrite(this.bundleFile(ident.id), JSON.stringify(bundle, null, 2) + '\n');
    this.save();
    return bundle;
  }

  /** Writes access.json and the Mosquitto files derived from it. */
  save(): void {
    atomicWrite(join(this.dir, 'access.json'), JSON.stringify(this.data, null, 2) + '\n');
    const active = this.data.identities.filter((i) => !i.revoked);
    // 0640: Mosquitto (group mosquitto on a server) must read them; nobody else.
    atomicWrite(join(this.dir, 'passwd'), active.map((i) => `${i.id}:${i.mosquitto}`).join('\n') + '\n', 0o640);
    atomicWrite(join(this.dir, 'acl'), mosquittoAcl(this.show, this.principals()), 0o640);
    atomicWrite(join(this.dir, 'mosquitto.conf'), mosquittoConf(this.dir), 0o644);
  }

  /** Checks a user name and password (the embedded broker's authenticate hook). */
  async authenticate(username: string | undefined, password: Buffer | string | undefined): Promise<Principal | null> {
    if (!username || password === undefined) return null;
    const ident = this.get(username);
    if (!ident || ident.revoked) return null;
    const pw = Buffer.isBuffer(password) ? password : Buffer.from(password);
    const digest = createHash('sha256').update(pw).digest();
    const known = this.verified.get(ident.id);
    if (known && timingSafeEqual(known, digest)) return principalOf(ident);
    const [, n, r, p, salt, hash] = ident.scrypt.split('$');
    const expected = Buffer.from(hash!, 'base64');
    const got = await scrypt(pw.toString(), Buffer.from(salt!, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
    if (!timingSafeEqual(got, expected)) return null;
    this.verified.set(ident.id, digest);
    return principalOf(ident);
  }

  /** Reads access.json again (after `kuroko access` changed it while the hub runs). */
  reload(): void {
    this.data = AccessStore.load(this.dir).data;
    this.verified.clear();
  }
}

function principalOf(i: Identity): Principal {
  return { id: i.id, role: i.role, ...(i.node ? { node: i.node } : {}) };
}

