/**
 * Who may publish and subscribe what, derived from the channel table (topics.ts) and nothing else,
 * so the embedded broker's hooks (hub/access/aedes-auth.ts) and Mosquitto's acl_file
 * (hub/access/mosquitto.ts) can never disagree with the contract or with each other.
 *
 *  - hub:      publishes the channels whose publisher is 'hub'; reads the whole show.
 *  - node:     publishes the 'node' channels under its own node/{id}/ (and transcript, error);
 *              reads only what nodes need: hub heartbeat/state, e-stops, its own cues and cmds, transcript;
 *              and what its agent needs (same computer, same credentials file): its own state and
 *              heartbeats and the show state (channels marked agentReads).
 *  - operator: publishes console/*; reads the whole show.
 *  - viewer:   reads the whole show; publishes nothing.
 */
import { CHANNELS, showRoot, type Channel, type ChannelName, type Publisher } from './topics.ts';

export const ROLES = ['hub', 'node', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

/** An authenticated client: its identity (the MQTT username), its role and, for a node, its node id. */
export interface Principal {
  id: string;
  role: Role;
  node?: string;
}

const PUBLISHER_ROLE: Record<Publisher, Role> = { hub: 'hub', node: 'node', console: 'operator' };

function channel(name: ChannelName): Channel {
  return CHANNELS[name] as Channel;
}

function publishers(ch: Channel): Role[] {
  return [ch.publisher, ...(ch.alsoPublishedBy ?? [])].map((p) => PUBLISHER_ROLE[p]);
}

/** The channel pattern as an MQTT filter: {node} is the principal's own node id, other parameters '+'. */
function filterFor(show: string, ch: Channel, node: string | undefined): string {
  return `${showRoot(show)}/${ch.pattern.replace(/\{(\w+)\}/g, (_, p: string) => (p === 'node' && node ? node : '+'))}`;
}

export interface AclRules {
  /** Topic filters this principal may publish to. */
  write: string[];
  /** Topic filters this principal may subscribe to and receive. */
  read: string[];
}

/** The rules of one principal, as MQTT topic filters (Mosquitto acl_file lines are written from these). */
export function aclRules(show: string, p: Principal): AclRules {
  const names = Object.keys(CHANNELS) as ChannelName[];
  const write = names.map(channel)
    .filter((ch) => publishers(ch).includes(p.role))
    .map((ch) => filterFor(show, ch, p.role === 'node' ? p.node : undefined));
  const read = p.role === 'node'
    ? names.map(channel).filter((ch) => ch.nodeReads || ch.agentReads).map((ch) => filterFor(show, ch, p.node))
    : [`${showRoot(show)}/#`];
  if (p.role === 'node' && !p.node) return { write: [], read: [] };
  return { write: [...new Set(write)], read: [...new Set(read)] };
}

/** Does a topic filter (the rule) match a concrete topic? MQTT semantics: '+' one level, '#' the rest. */
export function topicMatches(rule: string, topic: string): boolean {
  const r = rule.split('/');
  const t = topic.split('/');
  for (let i = 0; i < r.length; i++) {
    if (r[i] === '#') return true;
    if (i >= t.length) return false;
    if (r[i] !== '+' && r[i] !== t[i]) return false;
    if (r[i] === '+' && t[i] === '') return false;
  }
  return r.length === t.length;
}

/** Does a rule cover every topic a subscription filter could match? (so a wildcard never widens access) */
export function filterCovered(rule: string, sub: string): boolean {
  const r = rule.split('/');
  const s = sub.split('/');
  for (let i = 0; i < r.length; i++) {
    if (r[i] === '#') return true;
    if (i >= s.length) return false;
    if (s[i] === '#') return false;
    if (r[i] === '+') continue;
    if (s[i] === '+' || r[i] !== s[i]) return false;
  }
  return r.length === s.length;
}

/** A compiled check for one principal; the broker hooks keep one per connected client. */
export class AccessPolicy {
  readonly rules: AclRules;
  constructor(readonly show: string, readonly principal: Principal) {
    this.rules = aclRules(show, principal);
  }
  mayPublish(topic: string): boolean {
    // Wildcards are never valid in a published topic; the broker rejects them too.
    if (topic.includes('+') || topic.includes('#')) return false;
    return this.rules.write.some((r) => topicMatches(r, topic));
  }
  maySubscribe(filter: string): boolean {
    return this.rules.read.some((r) => filterCovered(r, filter));
  }
  mayRead(topic: string): boolean {
    return this.rules.read.some((r) => topicMatches(r, topic));
  }
}
