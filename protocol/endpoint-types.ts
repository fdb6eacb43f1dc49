/**
 * Options and hook types of the MQTT endpoint (protocol/endpoint.ts), apart so that config
 * code (credentials, TLS, signing) can import them without the client.
 */
import type { ChannelName, TopicParams } from './topics.ts';
import type { PayloadOf } from './codec.ts';

/** TLS material (PEM text or buffers); issue 10 fills these from `kuroko access`. */
export interface TlsOptions {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Default true: never talk to a broker whose certificate does not check out. */
  rejectUnauthorized?: boolean;
  servername?: string;
}

/** A message leaving the endpoint, after encoding; a hook may change it (sign it) or return null to drop it. */
export interface OutgoingMessage { channel: ChannelName; topic: string; payload: string | Buffer; qos: 0 | 1; retain: boolean }

/** A message arriving, before decoding; a hook may return a new payload (signature stripped) or an error. */
export interface IncomingMessage { channel: ChannelName; topic: string; params: TopicParams; payload: string | Buffer; retained: boolean }

export interface MessageHook {
  outgoing?(m: OutgoingMessage): OutgoingMessage | null;
  /** silent: drop without an error report (a flood of unknown node ids must not become a flood of reports). */
  incoming?(m: IncomingMessage): { ok: true; payload: string | Buffer } | { ok: false; error: string; silent?: boolean };
}

export interface ConnectionOptions {
  /** Broker URL: mqtt://host:port, or mqtts:// with `tls`. */
  url: string;
  show: string;
  /** Stable across restarts when `clean` is false, so the broker finds the session again. */
  clientId: string;
  /** Who reports rejected messages on the error channel: "hub" or "node/{id}". */
  reporter: string;
  /** A name for messages ("hub", "node kenzaki"). */
  name?: string;
  /** false = persistent session: the broker keeps subscriptions and queues QoS 1 messages while away. Default true. */
  clean?: boolean;
  keepaliveS?: number;
  reconnectMs?: number;
  connectTimeoutMs?: number;
  /** How long start() waits for the first connection (default 10 s). */
  connectWaitMs?: number;
  /** Added to the could-not-connect message (what to do about it). */
  hint?: string;
  username?: string;
  password?: string | Buffer;
  tls?: TlsOptions;
  /** The Last Will, computed again before each reconnect (it may carry a sequence number). */
  will?: () => { channel: ChannelName; params?: TopicParams; payload: PayloadOf<ChannelName> };
  /** Messages published on every (re)connect, after the subscriptions (birth, state). */
  birth?: () => { channel: ChannelName; params?: TopicParams; payload: PayloadOf<ChannelName> }[];
  /** Drop publishes while disconnected instead of letting the client queue them. */
  dropWhileOffline?: boolean;
  hooks?: MessageHook[];
  /** Error reports on the error channel per second (bursts of twice that); default unlimited. A flood of bad messages must not become a flood of reports. */
  errorReportRate?: number;
  /** Counts refused messages; pass one object to several endpoints to count them together. */
  rejectedCounter?: { count: number };
  /** Connection errors, once per distinct message (not on every retry). */
  onError?: (e: Error) => void;
}
