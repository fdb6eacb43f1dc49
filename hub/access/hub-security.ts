/**
 * The hub's side of a trusted stage, in one place so the hub core only calls it:
 *  - the embedded broker's security (credentials store, TLS) and the hub's own credentials;
 *  - signing of outgoing control messages (protocol/signing.ts) and stripping of auth fields
 *    from those the hub hears back (its own retained e-stop);
 *  - who sent a console command (the embedded broker knows; through Mosquitto, MQTT 3.1.1 does not
 *    say, so it is "an operator": only operators may publish console/* there);
 *  - per-sender rate limits on console commands (an e-stop is never limited);
 *  - node ids not in the show, refused before registry, metrics or journal (ghosts.ts).
 */
import type { Logger } from 'pino';
import { Signer, stripAuth, isSignedChannel } from '../../protocol/signing.ts';
import { securityFromBundle, type ClientSecurity } from '../../protocol/credentials.ts';
import { TokenBucket } from '../../protocol/rate-limit.ts';
import type { ChannelName } from '../../protocol/topics.ts';
import type { Principal } from '../../protocol/access.ts';
import type { AccessStore } from './store.ts';
import type { BrokerSecurity, EmbeddedBroker } from '../broker.ts';
import type { ConnectionOptions, MessageHook } from '../../protocol/endpoint-types.ts';
import { tlsForUrl } from '../../protocol/credentials.ts';
import type { GhostNodes } from './ghosts.ts';

export interface HubSecurityOptions {
  /** The show's credentials store: the embedded broker authenticates against it, the hub uses its "hub" identity. */
  store?: AccessStore;
  /** The hub's own credentials when they do not come from a local store (an external broker). */
  client?: ClientSecurity;
  /** TLS port of the embedded broker (default 8883; null: no TLS listener). */
  tlsPort?: number | null;
  /** Bind address of the TLS listener (default: every interface). */
  tlsHost?: string;
  /** Console commands per second per sender (burst twice that); default 10. */
  consoleRate?: number;
}

export interface Who {
  id: string;
  role: string;
}

/** A stage with no security at all: the tests' and --insecure's choice. */
const OPEN: Who = { id: 'anonymous', role: 'unauthenticated' };

export class HubSecurity {
  readonly client: ClientSecurity | undefined;
  private readonly signer: Signer | null;
  private broker: EmbeddedBroker | null = null;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly logBucket = new TokenBucket(1, 5);
  /** Console commands dropped by the rate limit. */
  readonly limited = { count: 0 };

  constructor(private readonly o: HubSecurityOptions, private readonly log: Logger) {
    this.client = o.client ?? (o.store ? securityFromBundle(o.store.readBundle('hub')) : undefined);
    this.signer = this.client?.showKey ? new Signer(this.client.showKey) : null;
  }

  /** The credentials store, when the stage has one: the page checks log-ins with store.authenticate(user, password) → { id, role } | null. */
  get store(): AccessStore | undefined {
    return this.o.store;
  }

  get secured(): boolean {
    return !!this.client?.username;
  }

  get signing(): boolean {
    return this.signer !== null;
  }

  brokerSecurity(): BrokerSecurity | undefined {
    if (!this.o.store) return undefined;
    return { store: this.o.store, tlsPort: this.o.tlsPort, ...(this.o.tlsHost ? { tlsHost: this.o.tlsHost } : {}), onRefused: (what) => this.rateLog(what) };
  }

  attachBroker(b: EmbeddedBroker): void {
    this.broker = b;
  }

  /** Endpoint options: user name, password, TLS for mqtts://, and the hooks (signing; unknown node ids). */
  connection(url: string, ghosts: GhostNodes): Pick<ConnectionOptions, 'username' | 'password' | 'tls'> & { hooks: MessageHook[] } {
    const c = this.client;
    const hook: MessageHook = {
      outgoing: (m) => (this.signer && isSignedChannel(m.channel) ? { ...m, payload: this.signer.sign(m.topic, m.payload.toString()) } : m),
      incoming: (m) => {
        // Ids not in the show stop here, silently: never in the registry, metrics or journal.
        if (m.params.node !== undefined && !ghosts.admit(m.params.node)) return { ok: false, error: 'node id not in the show', silent: true };
        return { ok: true, payload: isSignedChannel(m.channel) ? stripAuth(m.payload) : m.payload };
      },
    };
    return {
      ...(c?.username !== undefined ? { username: c.username } : {}),
      ...(c?.password !== undefined ? { password: c.password } : {}),
      ...(c ? tlsForUrl(c, url) : {}),
      hooks: [hook],
    };
  }

  /** Who published the console command that just arrived on this topic. */
  who(topic: string): Who {
    const p: Principal | undefined = this.broker?.auth?.lastPublisher(topic);
    if (p) return { id: p.id, role: p.role };
    if (this.secured) return { id: 'operator (via the external broker: MQTT does not name the publisher)', role: 'operator' };
    return OPEN;
  }

  /** May this sender run one more console command now? E-stops always may. */
  consoleAllowed(name: ChannelName, who: Who): boolean {
    if (name === 'consoleEstop') return true;
    let b = this.buckets.get(who.id);
    if (!b) {
      const rate = this.o.consoleRate ?? 10;
      b = new TokenBucket(rate, rate * 2);
      // Ids come from the store (or the three fixed names above), so this map stays small.
      this.buckets.set(who.id, b);
    }
    if (b.take()) return true;
    this.limited.count++;
    this.rateLog(`console command from ${who.id} dropped: more than ${this.o.consoleRate ?? 10} per second`);
    return false;
  }

  /** A log line that an attacker cannot turn into a flood (1 per second, bursts of 5). */
  rateLog(what: string): void {
    const dropped = this.logBucket.takeReporting();
    if (dropped === null) return;
    this.log.warn(`${what}${dropped ? ` (${dropped} similar lines suppressed)` : ''}`);
  }
}
