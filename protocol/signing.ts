/**
 * Signed control messages: defense in depth, so a misconfigured or compromised broker still cannot
 * move a robot or hold it armed. Every channel marked `signed` in topics.ts (hub heartbeat, cues,
 * node commands, the e-stop) carries, as its last field, `"auth":{"ctr":N,"mac":"..."}`:
 *   mac = HMAC-SHA256(show key, topic + "\n" + ctr + "\n" + the JSON without the auth field)
 * The MAC covers the exact bytes sent, so no JSON canonicalisation is needed, and the topic, so a cue
 * for one node cannot be replayed to another. ctr only grows (it starts from the wall clock in µs, so
 * a restarted hub continues above its old values); a node keeps the last counter per topic and
 * refuses anything not newer: a replayed or re-delivered message is dropped. One signer counts for
 * every topic, so the highest counter a node accepted is a floor for all of them: a node keeps it on
 * disk (edge/counter-floor.ts), and after a restart refuses whatever was signed before it.
 * Pure: no I/O, no timers; the endpoint hooks it in (signer outgoing, verifier incoming).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CHANNELS, type Channel, type ChannelName } from './topics.ts';
import type { MessageHook } from './endpoint-types.ts';

const AUTH_TAIL = /,?"auth":\{"ctr":(\d{1,16}),"mac":"([A-Za-z0-9_-]{22})"\}\}$/;
const MAC_BYTES = 16;

export function isSignedChannel(name: ChannelName): boolean {
  return (CHANNELS[name] as Channel).signed === true;
}

function mac(key: Buffer, topic: string, ctr: number, body: string): string {
  return createHmac('sha256', key).update(`${topic}\n${ctr}\n${body}`).digest().subarray(0, MAC_BYTES).toString('base64url');
}

/** Signs outgoing control messages (the hub). */
export class Signer {
  private ctr: number;
  constructor(private readonly key: Buffer, now: () => number = Date.now) {
    this.ctr = now() * 1000;
  }
  /** The JSON body with its auth field appended. */
  sign(topic: string, body: string): string {
    const ctr = ++this.ctr;
    const m = mac(this.key, topic, ctr, body);
    const sep = body.length > 2 ? ',' : '';
    return `${body.slice(0, -1)}${sep}"auth":{"ctr":${ctr},"mac":"${m}"}}`;
  }
}

export type Verified = { ok: true; body: string } | { ok: false; error: string };

/** Splits a signed payload into its body and auth, without checking anything. */
export function splitAuth(text: string): { body: string; ctr: number; mac: string } | null {
  const m = AUTH_TAIL.exec(text);
  if (!m) return null;
  return { body: text.slice(0, m.index) + '}', ctr: Number(m[1]), mac: m[2]! };
}

/** Checks incoming control messages (a node). */
export class Verifier {
  private readonly last = new Map<string, number>();
  /** The highest counter accepted on any topic (at first, the floor it was given). */
  highest: number;
  /** `floor`: nothing signed at or below it is accepted (the highest counter seen before a restart). */
  constructor(private readonly key: Buffer, private readonly floor = 0) {
    this.highest = floor;
  }

  verify(topic: string, payload: Buffer | string): Verified {
    const text = payload.toString();
    const parts = splitAuth(text.trimEnd());
    if (!parts) return { ok: false, error: 'unsigned control message refused (no auth field; only the hub may send it)' };
    const expected = Buffer.from(mac(this.key, topic, parts.ctr, parts.body), 'base64url');
    const got = Buffer.from(parts.mac, 'base64url');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { ok: false, error: 'wrongly signed control message refused (bad MAC: not from this show\'s hub)' };
    const last = Math.max(this.last.get(topic) ?? 0, this.floor);
    if (parts.ctr <= last) return { ok: false, error: `replayed control message refused (counter ${parts.ctr} is not newer than ${last})` };
    this.last.set(topic, parts.ctr);
    if (parts.ctr > this.highest) this.highest = parts.ctr;
    return { ok: true, body: parts.body };
  }
}

/** Without a key (an --insecure stage) a signed message is still readable: drop the auth field. */
export function stripAuth(payload: Buffer | string): string {
  const text = payload.toString();
  return splitAuth(text.trimEnd())?.body ?? text;
}

export type ControlCheck =
  | { ok: true; body: string | Buffer }
  | { ok: false; error: string; body: string };

/**
 * What a node does with an incoming message: signed channels are verified when the node holds the
 * show key (a secured stage) and merely stripped of their auth field otherwise (--insecure).
 * The caller still obeys an e-stop (active: true) that failed the check: stopping is never blocked.
 */
export class ControlGuard {
  private readonly verifier: Verifier | null;
  constructor(key: Buffer | undefined, floor = 0) {
    this.verifier = key ? new Verifier(key, floor) : null;
  }
  /** The highest counter accepted so far (0 on an --insecure stage). */
  get highest(): number {
    return this.verifier?.highest ?? 0;
  }
  get secured(): boolean {
    return this.verifier !== null;
  }
  check(name: ChannelName, topic: string, payload: Buffer | string): ControlCheck {
    if (!isSignedChannel(name)) return { ok: true, body: payload };
    if (!this.verifier) return { ok: true, body: stripAuth(payload) };
    const v = this.verifier.verify(topic, payload);
    return v.ok ? v : { ok: false, error: v.error, body: stripAuth(payload) };
  }
}

function estopActive(body: Buffer | string): boolean | null {
  try {
    const v = JSON.parse(body.toString()) as { active?: unknown };
    return typeof v.active === 'boolean' ? v.active : null;
  } catch {
    return null;
  }
}

/**
 * The node's endpoint hook: signed channels verified (or only stripped without a key). An e-stop
 * that fails the check is still obeyed — stopping is never blocked — but a release must be signed
 * by the hub, newer than the last one, and live (a retained release is the broker replaying the past).
 */
export function controlHook(key: Buffer | undefined, counters?: { floor: number; accepted(highest: number): void }): MessageHook {
  const guard = new ControlGuard(key, counters?.floor ?? 0);
  return {
    incoming(m) {
      const c = guard.check(m.channel, m.topic, m.payload);
      if (c.ok && guard.secured) counters?.accepted(guard.highest);
      if (c.ok) {
        if (m.channel === 'estop' && guard.secured && m.retained && estopActive(c.body) === false) {
          return { ok: false, error: 'retained e-stop release ignored: a release must be live, from the hub', silent: true };
        }
        return { ok: true, payload: c.body };
      }
      if (m.channel === 'estop' && estopActive(c.body) === true) return { ok: true, payload: c.body };
      // The broker hands the retained e-stop again on every reconnect: the same message, not an attack.
      if (m.retained && c.error.startsWith('replayed')) return { ok: false, error: c.error, silent: true };
      return { ok: false, error: c.error };
    },
  };
}
