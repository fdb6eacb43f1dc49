/**
 * The topic tree under kuroko/v1/{show}/. This table is the one place that names every topic,
 * its QoS, whether it is retained, who publishes it and what its payload is. The code builds
 * and parses topics from it, and the AsyncAPI document is generated from it.
 */
import type { TSchema } from '@sinclair/typebox';
import { TOPIC_ROOT } from './version.ts';
import { isId } from './ids.ts';
import * as S from './schemas.ts';

export type Publisher = 'hub' | 'node' | 'console';

export interface Channel {
  /** Pattern relative to kuroko/v1/{show}/; {node} and {sensor}/{kind} are parameters. */
  pattern: string;
  qos: 0 | 1;
  retain: boolean;
  publisher: Publisher;
  /** JSON schema of the payload; console commands also accept the bare forms described. */
  schema: TSchema;
  description: string;
  /** Console commands accept an empty payload or a bare string besides JSON. */
  bare?: 'empty' | 'id' | 'text';
  /** The field a bare payload fills (default "scene"). */
  bareField?: string;
  /** Others who may also publish it (protocol/access.ts derives the broker ACLs from this table). */
  alsoPublishedBy?: readonly Publisher[];
  /** Nodes subscribe to it (their own copy when the pattern has {node}); hub, operators and viewers read everything. */
  nodeReads?: boolean;
  /**
   * The node's agent (edge/agent/, on the node's computer, logged in with the node's credentials)
   * reads it: its own node's state and heartbeats (is an update healthy?) and the show state (the
   * show lock). The node identity may read it, its own copy only; it never publishes it.
   */
  agentReads?: boolean;
  /** Hub-sent messages that can make a node move or stay armed carry an HMAC and counter (protocol/signing.ts). */
  signed?: boolean;
}

export const CHANNELS = {
  hubState: { pattern: 'hub/state', qos: 1, retain: true, publisher: 'hub', schema: S.HubState, description: 'Hub online/offline; the hub Last Will publishes offline.', nodeReads: true },
  hubHeartbeat: { pattern: 'hub/heartbeat', qos: 0, retain: false, publisher: 'hub', schema: S.HubHeartbeat, description: 'Hub heartbeat, 10 Hz, carrying the show clock.', nodeReads: true, signed: true },
  nodeState: { pattern: 'node/{node}/state', qos: 1, retain: true, publisher: 'node', schema: S.NodeState, description: 'Node lifecycle state; the node Last Will publishes lost.', agentReads: true },
  nodeBirth: { pattern: 'node/{node}/birth', qos: 1, retain: false, publisher: 'node', schema: S.NodeBirth, description: 'Node birth certificate: capabilities, limits, versions, bdSeq.' },
  nodeHeartbeat: { pattern: 'node/{node}/heartbeat', qos: 0, retain: false, publisher: 'node', schema: S.NodeHeartbeat, description: 'Node heartbeat, 1 Hz.', agentReads: true },
  nodeCue: { pattern: 'node/{node}/cue', qos: 1, retain: false, publisher: 'hub', schema: S.Cue, description: 'A cue for one node, to start at show time `at`.', nodeReads: true, signed: true },
  nodeCueAck: { pattern: 'node/{node}/cue/ack', qos: 1, retain: false, publisher: 'node', schema: S.CueAck, description: 'Cue progress: accepted, rejected, started, done or failed.' },
  nodeCmd: { pattern: 'node/{node}/cmd', qos: 1, retain: false, publisher: 'hub', schema: S.NodeCommand, description: 'Arm, disarm, stop or rebirth one node.', nodeReads: true, signed: true },
  nodeTelemetry: { pattern: 'node/{node}/telemetry/{sensor}', qos: 0, retain: false, publisher: 'node', schema: S.Telemetry, description: 'A sensor reading or a node metric.' },
  nodeEvent: { pattern: 'node/{node}/event/{kind}', qos: 1, retain: false, publisher: 'node', schema: S.NodeEvent, description: 'A node event (watchdog, limit, motion, fault, ...).' },
  estop: { pattern: 'estop', qos: 1, retain: true, publisher: 'hub', schema: S.Estop, description: 'Show-wide emergency stop; retained so a node that (re)connects sees it first.', nodeReads: true, signed: true },
  nodeJournaled: { pattern: 'node/{node}/journaled', qos: 1, retain: false, publisher: 'hub', schema: S.LineJournaled, description: "The hub's receipt for a performed line, sent once it is journaled; the node keeps the line until then.", nodeReads: true },
  transcript: { pattern: 'transcript', qos: 1, retain: false, publisher: 'node', schema: S.TranscriptLine, description: 'Each line as performed.', nodeReads: true },
  showState: { pattern: 'show/state', qos: 1, retain: true, publisher: 'hub', schema: S.ShowState, description: 'Scene, standby cue and status of the show.', agentReads: true },
  hubEvent: { pattern: 'hub/event/{kind}', qos: 1, retain: false, publisher: 'hub', schema: S.NodeEvent, description: 'A hub report: late or missing ack, cue skipped for a lost node, node lost, ...' },
  error: { pattern: 'error', qos: 0, retain: false, publisher: 'hub', schema: S.ErrorReport, description: 'Rejected messages and why (published by the hub and by nodes).', alsoPublishedBy: ['node'] },
  consoleSceneStart: { pattern: 'console/scene/start', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleScenePayload, bare: 'id', description: 'Start a scene: payload is the scene id, bare or as {"scene": "id"}.' },
  consoleGo: { pattern: 'console/go', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleEmpty, bare: 'empty', description: 'GO: fire the standby cue.' },
  consoleStop: { pattern: 'console/stop', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleEmpty, bare: 'empty', description: 'Stop running cues; the playhead stays.' },
  consoleArm: { pattern: 'console/arm', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleEmpty, bare: 'empty', description: 'Arm every online node.' },
  consoleDisarm: { pattern: 'console/disarm', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleEmpty, bare: 'empty', description: 'Disarm every node.' },
  consoleEstop: { pattern: 'console/estop', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleEmpty, bare: 'empty', description: 'Emergency stop: every node stops and holds.', nodeReads: true },
  consoleRelease: { pattern: 'console/release', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleEmpty, bare: 'empty', description: 'Release the e-stop; nodes stay disarmed until arm.' },
  consoleNextSpeaker: { pattern: 'console/next-speaker', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleNextSpeaker, bare: 'id', bareField: 'character', description: 'Improv: who speaks next (a character id, bare or as {"character": "id"}).' },
  consoleCouncilAsk: { pattern: 'console/council/ask', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleCouncilAsk, bare: 'text', bareField: 'question', description: 'Council: put a question to the agents; each answers in role on stage, then one synthesises. Bare text or {"question": "..."}.' },
  consoleCouncilAgent: { pattern: 'console/council/agent', qos: 1, retain: false, publisher: 'console', schema: S.ConsoleCouncilAgent, description: 'Council: customise an agent (params, capabilities, role) or create one.' },
  consoleReply: { pattern: 'console/reply', qos: 1, retain: false, publisher: 'hub', schema: S.ConsoleReply, description: 'The answer to each console command.' },
} as const satisfies Record<string, Channel>;

export type ChannelName = keyof typeof CHANNELS;
export type TopicParams = { node?: string; sensor?: string; kind?: string };

export function showRoot(show: string): string {
  return `${TOPIC_ROOT}/${show}`;
}

/** Builds the full topic of a channel, e.g. topic('blade', 'nodeCue', {node: 'kenzaki'}). */
export function topic(show: string, name: ChannelName, params: TopicParams = {}): string {
  const rel = CHANNELS[name].pattern.replace(/\{(\w+)\}/g, (_, p: string) => {
    const v = (params as Record<string, string | undefined>)[p];
    if (!v || !isId(v)) throw new Error(`topic ${name}: parameter ${p}=${JSON.stringify(v)} is not a valid id`);
    return v;
  });
  return `${showRoot(show)}/${rel}`;
}

/** MQTT subscription filter of a channel: parameters become '+'. */
export function filter(show: string, name: ChannelName, params: TopicParams = {}): string {
  const rel = CHANNELS[name].pattern.replace(/\{(\w+)\}/g, (_, p: string) => (params as Record<string, string | undefined>)[p] ?? '+');
  return `${showRoot(show)}/${rel}`;
}

export interface ParsedTopic {
  name: ChannelName;
  params: TopicParams;
}

const compiled = (Object.keys(CHANNELS) as ChannelName[]).map((name) => {
  const names: string[] = [];
  const re = new RegExp('^' + CHANNELS[name].pattern.replace(/\{(\w+)\}/g, (_, p: string) => {
    names.push(p);
    return '([^/]+)';
  }) + '$');
  return { name, re, names };
});

/** Topics repeat (the same few dozen per show): remember their parse, bounded. */
const parsedCache = new Map<string, ParsedTopic | null>();

/** Finds which channel a full topic belongs to; null for topics outside the contract. */
export function parseTopic(show: string, full: string): ParsedTopic | null {
  const key = `${show}\n${full}`;
  const hit = parsedCache.get(key);
  if (hit !== undefined) return hit && { name: hit.name, params: { ...hit.params } };
  const parsed = parseTopicUncached(show, full);
  if (parsedCache.size >= 4096) parsedCache.clear();
  parsedCache.set(key, parsed);
  return parsed && { name: parsed.name, params: { ...parsed.params } };
}

function parseTopicUncached(show: string, full: string): ParsedTopic | null {
  const root = showRoot(show) + '/';
  if (!full.startsWith(root)) return null;
  const rel = full.slice(root.length);
  for (const c of compiled) {
    const m = c.re.exec(rel);
    if (m) {
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => (params[n] = m[i + 1]!));
      return { name: c.name, params };
    }
  }
  return null;
}
