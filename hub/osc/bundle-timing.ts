/**
 * OSC bundle time tags, as OSC 1.0 says: a bundle whose time tag is "immediately" (the special
 * value 1) or already past runs now; one in the future runs at that time (NTP time → this hub's
 * wall clock). A bundle inside a bundle runs no earlier than the bundle around it. Messages keep
 * the order they have in the packet.
 *
 * Two rules of our own, for the stage:
 *  - An e-stop is never delayed: an e-stop message inside a future bundle (or in a bundle refused
 *    for being too far ahead) runs at once. Stopping is never blocked by anything, a time tag
 *    included: the person who sent it wants the robots to stop now, and whoever wrote the bundle
 *    cannot know what is on stage by then.
 *  - Nothing scheduled before a stop runs after it: every e-stop drops every scheduled bundle (see
 *    BundleScheduler.dropAll), or a `release` or `go` queued minutes earlier could undo it.
 *
 * This file is pure timing: which messages run now, which later, which are refused. The server
 * (server.ts) runs them and answers the sender.
 */
import type { OscMessage, OscPacket } from 'osc';

/** How far ahead a bundle may be scheduled. Further is refused: a clock that is wrong, or a typo. */
export const MAX_AHEAD_MS = 60 * 60 * 1000;
/** Bundles waiting at one time; more are refused (each holds a timer and its messages). */
export const MAX_SCHEDULED = 64;

/** NTP seconds (since 1900) at the Unix epoch. */
const NTP_UNIX_OFFSET_S = 2208988800;
const TWO_32 = 2 ** 32;

/**
 * When a time tag asks to run, in ms of this hub's wall clock; 'immediately' for the special value
 * (seconds 0, fraction 1). Reads the raw NTP pair the osc package keeps (its own conversion turns
 * "immediately" into the time it read the packet, which we could not tell from a real time).
 */
export function timeTagMs(tag: unknown): number | 'immediately' {
  const raw = (tag as { raw?: unknown } | null)?.raw;
  if (!Array.isArray(raw) || typeof raw[0] !== 'number' || typeof raw[1] !== 'number') return 'immediately';
  const [seconds, fraction] = raw as [number, number];
  if (seconds === 0 && fraction === 1) return 'immediately';
  // NTP seconds wrap in February 2036. As RFC 4330 reads them: the top bit set is 1968–2036 (era 0),
  // clear is 2036–2104 (era 1), so a sender's clock after the wrap still means the right time.
  const era = seconds >= 2 ** 31 ? 0 : TWO_32;
  return (seconds + era - NTP_UNIX_OFFSET_S + fraction / TWO_32) * 1000;
}

/** One message and the time it runs at (ms, wall clock). */
export interface TimedMessage { at: number; message: OscMessage }

/**
 * Every message of a packet with the time it runs at, in packet order. A nested bundle runs no
 * earlier than the bundle around it (OSC 1.0 requires its time tag to be no earlier; a sender that
 * breaks that rule gets the outer time).
 */
export function flattenPacket(p: OscPacket, now: number, enclosingAt = now): TimedMessage[] {
  if (!('packets' in p)) return [{ at: enclosingAt, message: p }];
  const own = timeTagMs(p.timeTag);
  const at = own === 'immediately' ? enclosingAt : Math.max(own, enclosingAt);
  return p.packets.flatMap((q) => flattenPacket(q, now, at));
}

/** What to do with one packet, decided at the moment it arrived. */
export interface BundlePlan {
  /** E-stops: run at once, before anything else, whatever their time tag says. */
  urgent: OscMessage[];
  /** Due now (immediately, or a time already past), in packet order. */
  now: OscMessage[];
  /** Due later, one group per time, earliest first; packet order within a group. */
  later: { at: number; messages: OscMessage[] }[];
  /** Set when the future part is refused; `later` is then empty (urgent messages still run). */
  refused?: string;
}

export interface PlanOptions {
  now: number;
  /** Whether a message is an e-stop (runs at once, whatever its time tag). */
  isUrgent(m: OscMessage): boolean;
  /**
   * Whether a message has nothing to wait for: it will be refused (an unknown address, arm not
   * allowed) or is not for Kuroko. It is handled now, so its sender hears of a mistake at once,
   * not when the bundle's time comes.
   */
  handledNow?(m: OscMessage): boolean;
  /** Bundles already waiting (for the MAX_SCHEDULED limit). */
  scheduled: number;
  /** The hub's address for this show, e.g. /kuroko/blade: named in refusals. */
  where: string;
}

export function planPacket(p: OscPacket, o: PlanOptions): BundlePlan {
  const plan: BundlePlan = { urgent: [], now: [], later: [] };
  const groups = new Map<number, OscMessage[]>();
  for (const { at, message } of flattenPacket(p, o.now)) {
    if (o.isUrgent(message)) plan.urgent.push(message);
    else if (at <= o.now || o.handledNow?.(message)) plan.now.push(message);
    else (groups.get(at) ?? groups.set(at, []).get(at)!).push(message);
  }
  plan.later = [...groups.entries()].sort((a, b) => a[0] - b[0]).map(([at, messages]) => ({ at, messages }));
  const last = plan.later.at(-1);
  if (last && last.at - o.now > MAX_AHEAD_MS) {
    plan.refused = `OSC bundle to ${o.where} refused: its time tag ${new Date(last.at).toISOString()} is ${describeAhead(last.at - o.now)} ahead of this hub's clock, more than the ${MAX_AHEAD_MS / 60000} min a bundle may wait (${names(last.messages)} not run). Send it with time tag 1 ("immediately") or at most ${MAX_AHEAD_MS / 60000} min ahead, and check that the sender's clock and the hub's agree (NTP)`;
    plan.later = [];
  } else if (plan.later.length && o.scheduled + plan.later.length > MAX_SCHEDULED) {
    plan.refused = `OSC bundle to ${o.where} refused: ${o.scheduled} bundles are already waiting for their time (at most ${MAX_SCHEDULED}); ${names(plan.later.flatMap((g) => g.messages))} not run. Send it again when some have run, or send an e-stop to drop them all`;
    plan.later = [];
  }
  return plan;
}

/** "go, scene/start" from the addresses, for replies. */
export function names(ms: OscMessage[]): string {
  const short = ms.map((m) => m.address.split('/').slice(3).join('/') || m.address);
  return short.length > 4 ? `${short.slice(0, 4).join(', ')} and ${short.length - 4} more` : short.join(', ');
}

export function describeAhead(ms: number): string {
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const min = Math.round(ms / 60000);
  return min < 120 ? `${min} min` : min < 48 * 60 ? `${Math.round(min / 60)} h` : `${Math.round(min / 1440)} days`;
}

/** A wall-clock time as the hub's local HH:MM:SS.mmm, for replies. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

interface Waiting<T> { at: number; messages: OscMessage[]; to: T; timer: NodeJS.Timeout }

/**
 * Holds the bundles that wait for their time. `to` is whoever sent them (the server answers them
 * when the bundle runs or is dropped).
 */
export class BundleScheduler<T> {
  private readonly waiting = new Set<Waiting<T>>();

  constructor(private readonly run: (messages: OscMessage[], to: T) => void) {}

  get size(): number {
    return this.waiting.size;
  }

  schedule(at: number, messages: OscMessage[], to: T): void {
    const w: Waiting<T> = {
      at,
      messages,
      to,
      // The delay is taken from the wall clock now; a clock stepped later does not move it.
      timer: setTimeout(() => { this.waiting.delete(w); this.run(messages, to); }, Math.max(0, at - Date.now())),
    };
    this.waiting.add(w);
  }

  /** Drops every waiting bundle (an e-stop, or the server closing); returns them, for the replies. */
  dropAll(): { at: number; messages: OscMessage[]; to: T }[] {
    const dropped = [...this.waiting].map(({ at, messages, to, timer }) => { clearTimeout(timer); return { at, messages, to }; });
    this.waiting.clear();
    return dropped;
  }
}
