// Log-in: the token goes to POST /login once and comes back as an HttpOnly session cookie, so it
// never sits in the address bar, the history or page script afterwards.
export type LoginResult = { ok: true; role: string } | { ok: false; message: string };

export async function logIn(token: string): Promise<LoginResult> {
  let res: Response;
  try {
    res = await fetch('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }), credentials: 'same-origin' });
  } catch {
    return { ok: false, message: 'the hub cannot be reached' };
  }
  const body = (await res.json().catch(() => ({}))) as { role?: string; error?: string };
  if (res.ok && body.role) return { ok: true, role: body.role };
  return { ok: false, message: body.error ?? `log-in failed (${res.status})` };
}

export async function logOut(): Promise<void> {
  await fetch('/logout', { method: 'POST', credentials: 'same-origin' }).catch(() => undefined);
}

/** What the address says about a log-in attempt through it (/?login=wrong|locked), then cleared. */
export function loginNoteFromAddress(): string | null {
  const p = new URLSearchParams(location.search).get('login');
  if (p) history.replaceState(null, '', '/');
  if (p === 'wrong') return 'The token in that address was not right. Type the control token.';
  if (p === 'locked') return 'Too many wrong tokens from this machine: wait a moment, then try again.';
  return null;
}
