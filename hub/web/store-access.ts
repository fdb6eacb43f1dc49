/**
 * Who may log in to the page when the show has a credentials store (hub/access/store.ts): the
 * control token (operator, id "token"), the viewer token, and the password of any operator or viewer
 * identity in the store, with that identity's role. Node and hub identities never log in here.
 * This file is the only place the page knows the store.
 *
 * Sessions are signed with a key derived from the store's show key, so a restarted hub (any token)
 * keeps its people logged in; each session is bound to its identity's last rotation, so `kuroko
 * access rotate` or `revoke` ends that identity's sessions once the hub rereads the store (restart
 * or SIGHUP).
 */
import { createHash, createHmac } from 'node:crypto';
import type { AccessStore, Identity } from '../access/store.ts';
import { tokenAuthenticator, sessionKeyFrom, type Authenticate, type PageUser, type SessionBinding } from './access.ts';

export interface PageAccess {
  authenticate: Authenticate;
  sessionKey: Buffer;
  sessionBinding: SessionBinding;
}

/** At most this many identities are tried for one password without a name (each costs one scrypt). */
const MAX_TRIED = 16;

const canLogIn = (i: Identity | undefined): i is Identity & { role: 'operator' | 'viewer' } => !!i && !i.revoked && (i.role === 'operator' || i.role === 'viewer');
const fingerprint = (s: string) => createHash('sha256').update(`kuroko-page-token\0${s}`).digest('base64url');

export function pageAccess(o: { token: string; viewerToken?: string; store?: AccessStore }): PageAccess {
  const tokens = tokenAuthenticator({ operator: o.token, ...(o.viewerToken ? { viewer: o.viewerToken } : {}) });
  const store = o.store;
  const authenticate: Authenticate = async (secret) => {
    const byToken = await tokens(secret);
    if (byToken || !store) return byToken;
    // "ID:PASSWORD" names the identity (one scrypt); a bare password is tried on each operator and viewer.
    const colon = secret.indexOf(':');
    const named = colon > 0 ? store.get(secret.slice(0, colon)) : undefined;
    const candidates = canLogIn(named) ? [{ ident: named, password: secret.slice(colon + 1) }] : store.list().filter(canLogIn).slice(0, MAX_TRIED).map((ident) => ({ ident, password: secret }));
    for (const { ident, password } of candidates) {
      const p = await store.authenticate(ident.id, password);
      if (p && (p.role === 'operator' || p.role === 'viewer')) return { id: p.id, role: p.role } satisfies PageUser;
    }
    return null;
  };
  const sessionBinding: SessionBinding = (id) => {
    // Token sessions end when the token changes (it is random on each start unless --token/KUROKO_TOKEN).
    if (id === 'token') return fingerprint(o.token);
    if (id === 'viewer-token') return o.viewerToken ? fingerprint(o.viewerToken) : null;
    const ident = store?.get(id);
    return canLogIn(ident) ? `${ident.role}\0${ident.rotated ?? ident.created}` : null;
  };
  const sessionKey = store
    ? createHmac('sha256', store.showKey).update('kuroko-page-session').digest()
    : sessionKeyFrom(o.token, o.viewerToken);
  return { authenticate, sessionKey, sessionBinding };
}
