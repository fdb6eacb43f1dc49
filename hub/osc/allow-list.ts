/**
 * Which source addresses may talk OSC to the hub. OSC has no authentication, so the address a
 * packet comes from is all there is: single addresses (IPv4 or IPv6) and IPv4 CIDR ranges.
 * The default is this machine only.
 */
import { isIP } from 'node:net';

export const DEFAULT_OSC_ALLOW = ['127.0.0.1', '::1'];

type Rule = { kind: 'exact'; address: string } | { kind: 'cidr'; base: number; mask: number; text: string };

function ipv4ToInt(a: string): number {
  return a.split('.').reduce((acc, o) => (acc << 8) + Number(o), 0) >>> 0;
}

/** "::ffff:10.0.0.5" (an IPv4 peer on a dual-stack socket) is 10.0.0.5. */
function normalise(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export class AllowList {
  private readonly rules: Rule[];

  /** Throws an Error naming the bad entry and the fix. */
  constructor(entries: string[]) {
    this.rules = entries.map((raw) => {
      const e = raw.trim();
      const slash = e.indexOf('/');
      if (slash < 0) {
        if (!isIP(e)) throw new Error(`--osc-allow: "${e}" is not an IP address (use e.g. 10.0.0.5, 10.0.0.0/24 or ::1)`);
        return { kind: 'exact', address: normalise(e) };
      }
      const base = e.slice(0, slash);
      const bits = Number(e.slice(slash + 1));
      if (isIP(base) !== 4 || !Number.isInteger(bits) || bits < 0 || bits > 32) {
        throw new Error(`--osc-allow: "${e}" is not an IPv4 range (use e.g. 10.0.0.0/24)`);
      }
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      return { kind: 'cidr', base: (ipv4ToInt(base) & mask) >>> 0, mask, text: e };
    });
  }

  allows(address: string): boolean {
    const a = normalise(address);
    const v4 = isIP(a) === 4 ? ipv4ToInt(a) : null;
    return this.rules.some((r) => r.kind === 'exact' ? r.address === a : v4 !== null && ((v4 & r.mask) >>> 0) === r.base);
  }

  describe(): string {
    return this.rules.map((r) => (r.kind === 'exact' ? r.address : r.text)).join(', ');
  }
}
