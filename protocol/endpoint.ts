/**
 * The one MQTT endpoint of Kuroko: the hub and every edge node talk to the broker through it.
 * It owns the connection (client id, session, keepalive, credentials, TLS), the Last Will and
 * the birth messages sent on every (re)connect, subscriptions derived from the handlers
 * registered, and one dispatcher: topic → channel → hooks → decode → handler. A message that
 * fails any step is reported on the `error` channel and dropped; a handler that throws is
 * reported the same way. Nothing a message says can crash the process.
 *
 * Shutdown is bounded: stop() says goodbye if the broker is there and returns within its
 * budget either way, so a SIGTERM never waits on a reconnect loop.
 */
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { connect, type MqttClient, type IClientOptions, type IPublishPacket } from 'mqtt';
import { CHANNELS, topic, filter, parseTopic, type ChannelName, type TopicParams } from './topics.ts';
import { decode, encode, precompileValidators, type PayloadOf } from './codec.ts';
import type { ConnectionOptions, MessageHook, IncomingMessage, OutgoingMessage } from './endpoint-types.ts';
import { TokenBucket } from './rate-limit.ts';

export type { ConnectionOptions, MessageHook, IncomingMessage, OutgoingMessage, TlsOptions } from './endpoint-types.ts';

/** What a handler learns besides the payload. */
export interface MessageContext {
  topic: string;
  params: TopicParams;
  /** Delivered from the broker's retained store (a stored value, not a live message). */
  retained: boolean;
  /** A QoS 1 redelivery. */
  dup: boolean;
}

export type Handler<N extends ChannelName> = (payload: PayloadOf<N>, ctx: MessageContext) => void;

/** A message to send: a channel of the table, its topic parameters, and a payload of its schema. */
export interface Message<N extends ChannelName = ChannelName> { channel: N; params?: TopicParams; payload: PayloadOf<N> }

interface Registration {
  channel: ChannelName;
  handler: Handler<ChannelName>;
  onReject?: (error: string, ctx: MessageContext) => void;
}

export interface EndpointEvents {
  connect: [info: { sessionPresent: boolean; first: boolean }];
  close: [];
  /** The broker acknowledged the subscriptions of a (re)connection. */
  subscribed: [];
  rejected: [info: { topic: string; error: string }];
}

export class Endpoint extends EventEmitter<EndpointEvents> {
  readonly rejected: { count: number };
  private client: MqttClient | null = null;
  private readonly handlers = new Map<ChannelName, Registration>();
  private readonly filters = new Map<string, 0 | 1>();
  private readonly hooks: MessageHook[];
  private everConnected = false;
  private readonly errorReports: TokenBucket | null;
  private stopping = false;

  constructor(readonly o: ConnectionOptions) {
    super();
    this.hooks = [...(o.hooks ?? [])];
    this.errorReports = o.errorReportRate ? new TokenBucket(o.errorReportRate, o.errorReportRate * 2) : null;
    this.rejected = o.rejectedCounter ?? { count: 0 };
  }

  get show(): string { return this.o.show; }
  get connected(): boolean { return !!this.client?.connected; }
  get url(): string { return this.o.url; }

  /** Adds a hook to every message in and out (issue 10: signing and verification). */
  use(hook: MessageHook): void {
    this.hooks.push(hook);
  }

  /**
   * Handles a channel: its filter is subscribed (now, and on every reconnect) and each valid
   * payload goes to the handler. `params` narrows the filter (a node listens to its own cues).
   * `onReject` is told when a payload on this channel was refused (after the error report).
   */
  handle<N extends ChannelName>(channel: N, handler: Handler<N>, o: { params?: TopicParams; onReject?: (error: string, ctx: MessageContext) => void } = {}): this {
    if (this.handlers.has(channel)) throw new Error(`endpoint: channel ${channel} already has a handler`);
    this.handlers.set(channel, { channel, handler: handler as unknown as Handler<ChannelName>, onReject: o.onReject });
    const f = filter(this.o.show, channel, o.params ?? {});
    // Subscribe at QoS 1 so QoS 1 channels keep their guarantee; QoS 0 ones stay 0 (the publisher's QoS wins).
    this.filters.set(f, 1);
    if (this.client?.connected) this.client.subscribe(f, { qos: 1 });
    return this;
  }

  /** Connects, and waits for the first connection (up to connectWaitMs; the error names the broker). */
  async start(): Promise<void> {
    precompileValidators();
    const o = this.o;
    const opts: IClientOptions = {
      clientId: o.clientId,
      clean: o.clean ?? true,
      keepalive: o.keepaliveS ?? 5,
      reconnectPeriod: o.reconnectMs ?? 1000,
      connectTimeout: o.connectTimeoutMs ?? 5000,
      // QoS 0 channels (heartbeats, telemetry) are stale once late: never replay them after a reconnect.
      queueQoSZero: false,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.tls ? { ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key, rejectUnauthorized: o.tls.rejectUnauthorized ?? true, ...(o.tls.servername ? { servername: o.tls.servername } : {}) } : {}),
      ...(o.will ? { will: this.willPacket() } : {}),
    };
    const client = connect(o.url, opts);
    this.client = client;
    let lastError = '';
    client.on('connect', (ack) => {
      lastError = '';
      (client.stream as Socket).setNoDelay?.(true);
      if (this.filters.size) client.subscribe(Object.fromEntries([...this.filters].map(([f, qos]) => [f, { qos }])), () => this.emit('subscribed'));
      else this.emit('subscribed');
      for (const m of o.birth?.() ?? []) this.publish(m.channel, m.params ?? {}, m.payload as never);
      const first = !this.everConnected;
      this.everConnected = true;
      this.emit('connect', { sessionPresent: !!ack.sessionPresent, first });
    });
    client.on('close', () => {
      this.emit('close');
      // The Will is fixed at CONNECT time: recompute it for the next session (a node's bdSeq moves on).
      if (o.will) client.options.will = this.willPacket();
    });
    // While the broker is away mqtt.js retries every reconnectMs: say so once, not every time.
    client.on('error', (e) => {
      if (e.message !== lastError) o.onError?.(e);
      lastError = e.message;
    });
    client.on('message', (t, payload, packet) => this.dispatch(t, payload, packet));
    await new Promise<void>((resolve, reject) => {
      const wait = o.connectWaitMs ?? 10000;
      const timer = setTimeout(() => reject(new Error(`${o.name ?? o.clientId}: could not reach the broker at ${o.url} within ${wait / 1000} s; is it running?${o.hint ? ` ${o.hint}` : ''}`)), wait);
      // Started = connected and subscribed: nothing meant for a handler can slip past before it.
      this.once('subscribed', () => { clearTimeout(timer); resolve(); });
    });
  }

  private willPacket(): NonNullable<IClientOptions['will']> {
    const m = this.o.will!();
    const ch = CHANNELS[m.channel];
    return { topic: topic(this.o.show, m.channel, m.params ?? {}), payload: Buffer.from(encode(m.channel, m.payload as never)), qos: ch.qos, retain: ch.retain };
  }

  /** topic → channel → hooks → decode → handler; every refusal goes to the error channel. */
  private dispatch(t: string, raw: Buffer, packet: IPublishPacket): void {
    const parsed = parseTopic(this.o.show, t);
    if (!parsed) return;
    const reg = this.handlers.get(parsed.name);
    if (!reg) return;
    const ctx: MessageContext = { topic: t, params: parsed.params, retained: !!packet.retain, dup: !!packet.dup };
    let payload: Buffer | string = raw;
    for (const h of this.hooks) {
      if (!h.incoming) continue;
      const r = h.incoming({ channel: parsed.name, topic: t, params: parsed.params, payload, retained: ctx.retained });
      if (!r.ok) {
        if (r.silent) return;
        return this.refuse(reg, ctx, r.error);
      }
      payload = r.payload;
    }
    const d = decode(parsed.name, payload);
    if (!d.ok) return this.refuse(reg, ctx, d.error);
    try {
      reg.handler(d.value, ctx);
    } catch (e) {
      this.reject(t, `internal error while handling it: ${(e as Error).message}`);
    }
  }

  private refuse(reg: Registration, ctx: MessageContext, error: string): void {
    this.reject(ctx.topic, error);
    try { reg.onReject?.(error, ctx); } catch { /* a refusal must never throw */ }
  }

  /** Reports a refused message on the error channel (and counts it). */
  reject(t: string, error: string): void {
    this.rejected.count++;
    this.emit('rejected', { topic: t, error });
    let dropped = 0;
    if (this.errorReports) {
      const d = this.errorReports.takeReporting();
      if (d === null) return;
      dropped = d;
    }
    const more = dropped ? ` (and ${dropped} more not reported)` : '';
    this.publish('error', {}, { v: 1, topic: t.slice(0, 300), error: error + more, reporter: this.o.reporter, ts: Date.now() });
  }

  /**
   * Publishes on a channel with its QoS and retain flag; the payload is checked against the
   * contract first. Returns false when the message was not handed to the client: no
   * connection and `dropWhileOffline`, or a hook refused it.
   */
  publish<N extends ChannelName>(channel: N, params: TopicParams, payload: PayloadOf<N>): boolean {
    const client = this.client;
    if (!client || this.stopping) return false;
    if (this.o.dropWhileOffline && !client.connected) return false;
    const m = this.outgoing(channel, params, payload);
    if (!m) return false;
    client.publish(m.topic, m.payload, { qos: m.qos, retain: m.retain });
    return true;
  }

  /** Publishes and waits for the broker's ack (QoS 1) or the timeout; false if it did not get there. */
  async publishAsync<N extends ChannelName>(channel: N, params: TopicParams, payload: PayloadOf<N>, timeoutMs = 1000): Promise<boolean> {
    const client = this.client;
    if (!client?.connected) return false;
    const m = this.outgoing(channel, params, payload);
    if (!m) return false;
    return await withTimeout(client.publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain }).then(() => true, () => false), timeoutMs, false);
  }

  private outgoing<N extends ChannelName>(channel: N, params: TopicParams, payload: PayloadOf<N>): OutgoingMessage | null {
    const ch = CHANNELS[channel];
    let m: OutgoingMessage | null = { channel, topic: topic(this.o.show, channel, params), payload: encode(channel, payload), qos: ch.qos, retain: ch.retain };
    for (const h of this.hooks) {
      if (!h.outgoing || !m) continue;
      m = h.outgoing(m);
    }
    return m;
  }

  /**
   * Bounded shutdown: sends the farewell (a clean disconnect suppresses the Will, so say it
   * ourselves) if connected, then closes. Never takes longer than budgetMs, broker or not.
   */
  async stop(farewell?: Message, budgetMs = 1500): Promise<void> {
    const client = this.client;
    if (!client) return;
    const started = Date.now();
    if (farewell && client.connected) await this.publishAsync(farewell.channel, farewell.params ?? {}, farewell.payload as never, budgetMs / 2);
    this.stopping = true;
    const left = Math.max(100, budgetMs - (Date.now() - started));
    const ended = await withTimeout(client.endAsync(!client.connected).then(() => true, () => true), left, false);
    if (!ended) await withTimeout(client.endAsync(true).then(() => true, () => true), 100, false);
    this.client = null;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: T): Promise<T> {
  return new Promise<T>((resolve) => {
    const timer = setTimeout(() => resolve(onTimeout), ms);
    timer.unref?.();
    p.then((v) => { clearTimeout(timer); resolve(v); }, () => { clearTimeout(timer); resolve(onTimeout); });
  });
}
