import { describe, it, expect } from 'vitest';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { pbkdf2Sync } from 'node:crypto';
import { X509Certificate } from 'node:crypto';
import { tempStore } from '../helpers/access.ts';
import { AccessStore } from '../../hub/access/store.ts';

describe('the credentials store (kuroko access)', () => {
  it('init makes a CA, a broker certificate, and an identity per role with a bundle each', async () => {
    const store = await tempStore('quick', ['ann', 'ben']);
    expect(store.list().map((i) => `${i.role}:${i.id}`)).toEqual(['hub:hub', 'node:ann', 'node:ben', 'operator:operator', 'viewer:viewer']);
    const ann = store.readBundle('ann');
    const cert = new X509Certificate(ann.cert!);
    expect(cert.subject).toBe('CN=ann');
    expect(cert.checkIssued(new X509Certificate(readFileSync(join(store.dir, 'ca.crt'))))).toBe(true);
    const server = new X509Certificate(readFileSync(join(store.dir, 'server.crt')));
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    // Passwords are only in the bundles; the store holds hashes. Bundles and the CA key are private.
    expect(readFileSync(join(store.dir, 'access.json'), 'utf8')).not.toContain(ann.password);
    expect(statSync(store.bundleFile('ann')).mode & 0o077).toBe(0);
    expect(statSync(join(store.dir, 'ca.key')).mode & 0o077).toBe(0);
    // Operators and viewers never get the show key (they cannot sign control messages).
    expect(store.readBundle('operator').showKey).toBeUndefined();
    expect(ann.showKey).toBeDefined();
  });

  it('authenticates with scrypt; rotate and revoke take effect; Mosquitto hashes check out', async () => {
    const store = await tempStore('quick', ['ann']);
    const op = store.readBundle('operator');
    expect(await store.authenticate('operator', Buffer.from(op.password))).toEqual({ id: 'operator', role: 'operator' });
    expect(await store.authenticate('operator', Buffer.from('nope'))).toBeNull();
    expect(await store.authenticate(undefined, undefined)).toBeNull();
    const line = readFileSync(join(store.dir, 'passwd'), 'utf8').split('\n').find((l) => l.startsWith('operator:'))!;
    const [, , iterations, salt, hash] = line.split(':')[1]!.split('$');
    expect(pbkdf2Sync(op.password, Buffer.from(salt!, 'base64'), Number(iterations), 64, 'sha512').toString('base64')).toBe(hash);
    const rotated = await store.rotate('operator');
    expect(await store.authenticate('operator', op.password)).toBeNull();
    expect(await store.authenticate('operator', rotated.password)).not.toBeNull();
    store.revoke('ann');
    expect(await store.authenticate('ann', store.list().find((i) => i.id === 'ann') ? 'x' : 'y')).toBeNull();
    expect(existsSync(store.bundleFile('ann'))).toBe(false);
    expect(readFileSync(join(store.dir, 'acl'), 'utf8')).not.toContain('user ann');
    expect(AccessStore.load(store.dir).get('ann')?.revoked).toBeTruthy();
  });

  it('refuses bad input with the fix', async () => {
    const store = await tempStore('quick', ['ann']);
    await expect(store.add('Bad Name', 'operator')).rejects.toThrow(/not a valid id/);
    await expect(store.add('x', 'node')).rejects.toThrow(/--node/);
    await expect(store.add('operator', 'operator')).rejects.toThrow(/rotate/);
    await expect(AccessStore.init(store.dir, 'quick', ['ann'])).rejects.toThrow(/--force/);
    expect(() => AccessStore.load('/nonexistent-kuroko')).toThrow(/kuroko access init/);
  });
});
