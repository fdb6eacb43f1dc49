/**
 * The hub's OSC endpoint: UDP and TCP on the same port, as QLab, Eos and Companion expect. TCP
 * takes SLIP framing (OSC 1.1) and, detected from the first byte, the length-prefixed framing of
 * OSC 1.0 (what liblo's `oscsend osc.tcp://…` sends). Commands go to the one console command
 * handler (the same one MQTT console/* and the page use); show state comes from a small
 * StageState interface and goes out as feedback to every registered client.
 *
 * OSC has no authentication, so only addresses on the allow-list are heard (others are dropped
 * unanswered, so the hub cannot be used to reflect traffic), and arming is off unless the show
 * file turns it on. Bundles honour their time tags (bundle-timing.ts); an e-stop never waits.
 */
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import osc, { type OscMessage, type OscPacket } from 'osc';
import type { ShowStateT } from '../../protocol/index.ts';
import type { CommandArgs, CommandResult } from '../console.ts';
import { AllowList } from './allow-list.ts';
import { OSC_PREFIX, parseOscMessage, replyMessage, showStateMessages, nodeStateMessage } from './address-space.ts';
import { BundleScheduler, planPacket, names, clockTime, describeAhead } from './bundle-timing.ts';

/** Runs one console command: in the hub this is hub.console.run (see hub/osc/hub-adapter.ts). */
export interface CommandRunner {
  /** `from` is the sender's address (OSC has no identity; the allow-list decided it may speak). */
  run(command: string, args?: CommandArgs, from?: string): Promise<CommandResult>;
  /** A command refused before it ran (e.g. arm when the show file does not allow it over OSC). */
  refused?(command: string, message: string, from: string): void;
}

export type StageChange = { kind: 'show' } | { kind: 'node'; id: string; state: string };

/** The show state the feedback reports, read through this and nothing else of the hub. */
export interface StageState {
  showState(): ShowStateT;
  nodeStates(): { id: string; state: string }[];
  /** Calls fn on every change; returns a function that stops it. */
  onChange(fn: (c: StageChange) => void): () => void;
}

export interface OscLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface OscServerOptions {
  show: string;
  /** osc.allowArm of the show file. */
  allowArm: boolean;
  /** 0 takes a free port (UDP and TCP get the same number). */
  port: number;
  host: string;
  allow: AllowList;
  /** Fixed feedback targets (host:port over UDP), e.g. a Companion instance. */
  feedback?: { host: string; port: number }[];
  commands: CommandRunner;
  state: StageState;
  log?: OscLog;
}

/** A place to send OSC to: a UDP address or one TCP connection. */
interface Peer { key: string; send(m: OscMessage): void }

const MAX_SUBSCRIBERS = 32;
const MAX_TCP_FRAME = 64 * 1024;

export class OscServer {
  private udp: UdpSocket | null = null;
  private tcp: Server | null = null;
  private readonly connections = new Set<Socket>();
  private readonly subscribers = new Map<string, Peer>();
  private readonly fixed: Peer[] = [];
  private readonly lastSent = new Map<string, string>();
  private readonly refusedSources = new Set<string>();
  private stopWatching: (() => void) | null = null;
  /** Bundles waiting for their time tag, with who sent them (answered when they run or are dropped). */
  private readonly scheduler = new BundleScheduler<{ peer: Peer; address: string }>((messages, to) => {
    for (const m of messages) void this.onMessage(m, to.peer, to.address);
  });
  private estopShown = false;
  /** Counters, for tests and the log. */
  readonly stats = { received: 0, refusedSource: 0, malformed: 0, commands: 0, scheduled: 0, refusedBundles: 0, droppedBundles: 0 };
  port = 0;

  constructor(private readonly o: OscServerOptions) {}

  async start(): Promise<void> {
    const family = isIP(this.o.host) === 6 ? 'udp6' : 'udp4';
    // Port 0: take a free UDP port, then ask for the same number on TCP (retrying when taken).
    for (let attempt = 0; ; attempt++) {
      const udp = createSocket(family);
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.o.port, this.o.host, () => { udp.off('error', reject); resolve(); });
      });
      const port = udp.address().port;
      const tcp = createServer((s) => this.onTcp(s));
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, this.o.host, () => { tcp.off('error', reject); resolve(); });
        });
      } catch (e) {
        udp.close();
        if (this.o.port === 0 && (e as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 10) continue;
        throw e;
      }
      this.udp = udp;
      this.tcp = tcp;
      this.port = port;
      break;
    }
    this.udp!.on('message', (data, rinfo) => this.onUdp(data, rinfo));
    this.udp!.on('error', (e) => this.o.log?.warn(`OSC UDP error: ${e.message}`));
    for (const f of this.o.feedback ?? []) this.fixed.push(this.udpPeer(f.host, f.port));
    // Feedback sends what changed from here on (a subscriber gets the whole state when it joins).
    for (const m of this.allMessages()) this.lastSent.set(m.address, JSON.stringify(m.args));
    this.estopShown = this.o.state.showState().estop;
    this.stopWatching = this.o.state.onChange((c) => this.onStageChange(c));
    // Fixed targets learn the current state at once.
    for (const p of this.fixed) this.sendAll(p);
  }

  async close(): Promise<void> {
    this.stopWatching?.();
    this.scheduler.dropAll();
    for (const s of this.connections) s.destroy();
    await Promise.all([
      new Promise<void>((r) => (this.udp ? this.udp.close(() => r()) : r())),
      new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r())),
    ]);
  }

  /** Bundles waiting for their time tag. */
  scheduledCount(): number {
    return this.scheduler.size;
  }

  /** Everyone who hears feedback right now (subscribers and fixed targets). */
  subscriberCount(): number {
    return this.subscribers.size + this.fixed.length;
  }

  // ---- transports ---------------------------------------------------------------------------------
  private udpPeer(address: string, port: number): Peer {
    return {
      key: `udp:${address}:${port}`,
      send: (m) => this.udp?.send(Buffer.from(osc.writePacket(m, { metadata: true })), port, address),
    };
  }

  private sourceAllowed(address: string): boolean {
    if (this.o.allow.allows(address)) return true;
    this.stats.refusedSource++;
    // Once per address, so a flood cannot fill the log.
    if (!this.refusedSources.has(address) && this.refusedSources.size < 1000) {
      this.refusedSources.add(address);
      this.o.log?.warn(`OSC from ${address} ignored: not on the allow-list (${this.o.allow.describe()}); add it with --osc-allow`);
    }
    return false;
  }

  private onUdp(data: Buffer, rinfo: RemoteInfo): void {
    if (!this.sourceAllowed(rinfo.address)) return;
    this.onPacketData(data, this.udpPeer(rinfo.address, rinfo.port), rinfo.address);
  }

  private onTcp(s: Socket): void {
    const address = s.remoteAddress ?? '';
    if (!this.sourceAllowed(address)) return void s.destroy();
    this.connections.add(s);
    s.setNoDelay(true);
    let framing: 'slip' | 'length' | null = null;
    const slip = new osc.SLIPPort({ metadata: true });
    const peer: Peer = {
      key: `tcp:${address}:${s.remotePort}`,
      send: (m) => {
        if (s.destroyed) return;
        if (framing === 'length') {
          const body = Buffer.from(osc.writePacket(m, { metadata: true }));
          const head = Buffer.alloc(4);
          head.writeUInt32BE(body.length);
          s.write(Buffer.concat([head, body]));
        } else s.write(Buffer.from(slip.encodeOSC(m)));
      },
    };
    slip.on('osc', (p: OscPacket) => this.onPacket(p, peer, address));
    slip.on('error', () => { this.stats.malformed++; });
    let pending = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      // SLIP frames start with END (0xC0); a length prefix of a sane OSC packet never does.
      framing ??= chunk[0] === 0xc0 ? 'slip' : 'length';
      if (framing === 'slip') return slip.decodeSLIPData(chunk);
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4) {
        const size = pending.readUInt32BE(0);
        if (size > MAX_TCP_FRAME) { this.stats.malformed++; return void s.destroy(); }
        if (pending.length < 4 + size) break;
        this.onPacketData(pending.subarray(4, 4 + size), peer, address);
        pending = pending.subarray(4 + size);
      }
    });
    const gone = () => { this.connections.delete(s); this.subscribers.delete(peer.key); };
    s.on('close', gone);
    s.on('error', gone);
  }

  private onPacketData(data: Uint8Array, from: Peer, address: string): void {
    let packet: OscPacket;
    try {
      packet = osc.readPacket(data, { metadata: true });
    } catch {
      this.stats.malformed++;
      return;
    }
    this.onPacket(packet, from, address);
  }

  /**
   * A message runs now; a bundle runs now or at its time tag (bundle-timing.ts). E-stops in a
   * bundle run first and at once, whatever the time tag: stopping is never blocked.
   */
  private onPacket(p: OscPacket, from: Peer, address: string): void {
    if (!('packets' in p)) {
      this.stats.received++;
      void this.onMessage(p, from, address);
      return;
    }
    const where = `${OSC_PREFIX}/${this.o.show}`;
    const plan = planPacket(p, {
      now: Date.now(),
      scheduled: this.scheduler.size,
      where,
      isUrgent: (m) => this.isEstop(m),
      handledNow: (m) => { const r = parseOscMessage(m, { show: this.o.show, allowArm: this.o.allowArm }); return !r || r.kind === 'refused'; },
    });
    this.stats.received += plan.urgent.length + plan.now.length + plan.later.reduce((n, g) => n + g.messages.length, 0);
    const reply = (ok: boolean, message: string) => from.send(replyMessage(this.o.show, 'bundle', ok, message));
    // The e-stop drops every waiting bundle (onMessage), and the future part of its own bundle with them.
    for (const m of plan.urgent) void this.onMessage(m, from, address);
    if (plan.refused) {
      this.stats.refusedBundles++;
      this.o.log?.warn(`OSC from ${address}: ${plan.refused}`);
      this.o.commands.refused?.('bundle', plan.refused, address);
      reply(false, plan.refused);
    } else if (plan.urgent.length && plan.later.length) {
      this.stats.droppedBundles += plan.later.length;
      reply(false, `the e-stop in this bundle ran at once; the rest of it (${names(plan.later.flatMap((g) => g.messages))}, due at ${clockTime(plan.later[0]!.at)}) is dropped: nothing scheduled before a stop runs after it. Send it again after release`);
      plan.later = [];
    }
    for (const m of plan.now) void this.onMessage(m, from, address);
    for (const g of plan.later) {
      this.stats.scheduled++;
      this.scheduler.schedule(g.at, g.messages, { peer: from, address });
      reply(true, `scheduled for ${clockTime(g.at)} (in ${describeAhead(g.at - Date.now())}): ${names(g.messages)}`);
    }
  }

  private isEstop(m: OscMessage): boolean {
    const r = parseOscMessage(m, { show: this.o.show, allowArm: this.o.allowArm });
    return r?.kind === 'command' && r.command === 'estop';
  }

  /**
   * Every e-stop (from OSC, MQTT or the page) drops every waiting bundle: a `release`, `arm` or `go`
   * scheduled before the stop must not undo it when its time comes. Each sender is told.
   */
  private dropScheduled(): void {
    for (const d of this.scheduler.dropAll()) {
      this.stats.droppedBundles++;
      this.o.log?.info(`OSC bundle from ${d.to.address} due at ${clockTime(d.at)} (${names(d.messages)}) dropped by an e-stop`);
      d.to.peer.send(replyMessage(this.o.show, 'bundle', false, `the bundle scheduled for ${clockTime(d.at)} (${names(d.messages)}) is dropped: an e-stop came first, and nothing scheduled before a stop runs after it. Send it again after release`));
    }
  }

  private async onMessage(m: OscMessage, from: Peer, address: string): Promise<void> {
    const req = parseOscMessage(m, { show: this.o.show, allowArm: this.o.allowArm });
    if (!req) return;
    const reply = (command: string, ok: boolean, message: string) => from.send(replyMessage(this.o.show, command, ok, message));
    switch (req.kind) {
      case 'refused':
        this.o.log?.warn(`OSC ${m.address} from ${address} refused: ${req.message}`);
        this.o.commands.refused?.(req.command, req.message, address);
        return reply(req.command, false, req.message);
      case 'state':
        this.sendAll(req.port ? this.udpPeer(address, req.port) : from);
        return;
      case 'subscribe':
      case 'unsubscribe': {
        const peer = req.port ? this.udpPeer(address, req.port) : from;
        if (req.kind === 'unsubscribe') {
          this.subscribers.delete(peer.key);
          return reply('unsubscribe', true, 'no more feedback to you');
        }
        if (!this.subscribers.has(peer.key) && this.subscribers.size >= MAX_SUBSCRIBERS) {
          return reply('subscribe', false, `subscribe refused: already ${MAX_SUBSCRIBERS} OSC clients get feedback`);
        }
        this.subscribers.set(peer.key, peer);
        reply('subscribe', true, `feedback goes to ${peer.key.replace(/^udp:/, '')}`);
        this.sendAll(peer);
        return;
      }
      case 'command': {
        this.stats.commands++;
        if (req.command === 'estop') this.dropScheduled();
        let r: CommandResult;
        try {
          r = await this.o.commands.run(req.command, req.args, address);
        } catch (e) {
          r = { ok: false, message: `${req.command} failed: ${(e as Error).message}` };
        }
        this.o.log?.info(`OSC ${req.command} from ${address}: ${r.message}`);
        return reply(req.command, r.ok, r.message);
      }
    }
  }

  // ---- feedback -------------------------------------------------------------------------------------
  private allMessages(): OscMessage[] {
    return [
      ...showStateMessages(this.o.show, this.o.state.showState()),
      ...this.o.state.nodeStates().map((n) => nodeStateMessage(this.o.show, n.id, n.state)),
    ];
  }

  private sendAll(to: Peer): void {
    for (const m of this.allMessages()) to.send(m);
  }

  /** Sends only what changed since the last feedback, to everyone registered. */
  private onStageChange(c: StageChange): void {
    if (c.kind === 'show') {
      // An e-stop from MQTT or the page drops waiting bundles too.
      const estop = this.o.state.showState().estop;
      if (estop && !this.estopShown) this.dropScheduled();
      this.estopShown = estop;
    }
    const msgs = c.kind === 'show' ? showStateMessages(this.o.show, this.o.state.showState()) : [nodeStateMessage(this.o.show, c.id, c.state)];
    const changed = msgs.filter((m) => {
      const v = JSON.stringify(m.args);
      if (this.lastSent.get(m.address) === v) return false;
      this.lastSent.set(m.address, v);
      return true;
    });
    if (!changed.length) return;
    for (const p of [...this.subscribers.values(), ...this.fixed]) for (const m of changed) p.send(m);
  }
}
