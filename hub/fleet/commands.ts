/**
 * The fleet's operations, as functions the CLI and the tests call: list, adopt during a
 * permit-join window, staged update, rollback. Each prints progress through `say` and returns
 * figures (times per node) so benchmarks can print them.
 */
import { AGENT_TLS_FILES, agentTlsName, type AdoptRequestT, type AgentInfoT, type AgentProgressT, type AgentResultT } from '../../protocol/agent-api.ts';
import { addressText, adopt as callAdopt, pushUpdate, rollback as callRollback, getInfo, type AgentAddress, AgentCallError } from './agent-client.ts';
import { browseMdns, discover, type Found } from './discovery.ts';
import type { FleetNode, FleetStore } from './store.ts';
import type { CredentialIssuer } from './credentials.ts';
import { planCode, type PlannedNode } from './plan.ts';
import { sealContext, sealWithCode } from '../../protocol/pairing-seal.ts';

export type Say = (line: string) => void;

/** An adopted node's address: over HTTPS, trusting only the show CA pinned at adoption and the node's name, when there is one. */
export function pinnedAddress(n: FleetNode): AgentAddress {
  return { host: n.host, port: n.port, ...(n.ca ? { ca: n.ca, servername: agentTlsName(n.nodeId) } : {}) };
}

export function progressLine(node: string, p: AgentProgressT): string {
  const mark = p.status === 'ok' ? 'ok  ' : p.status === 'fail' ? 'FAIL' : p.status === 'skip' ? 'skip' : p.status === 'start' ? '..  ' : '    ';
  return `[${node}] ${mark} ${p.step}: ${p.message}${p.ms !== undefined ? ` (${p.ms} ms)` : ''}`;
}

function resultLine(node: string, r: AgentResultT): string {
  return `[${node}] ${r.ok ? 'DONE' : r.outcome.toUpperCase()} ${r.message} (${(r.ms / 1000).toFixed(1)} s)${r.next ? `\n[${node}]      next: ${r.next}` : ''}`;
}

// ---- list --------------------------------------------------------------------
export async function listFleet(store: FleetStore, o: { mdnsMs: number; static: AgentAddress[] }): Promise<Found[]> {
  const found = await discover({ mdnsMs: o.mdnsMs, static: o.static, known: store.nodes().map((n) => ({ host: n.host, port: n.port })) });
  for (const f of found) if (f.info?.nodeId && store.get(f.info.nodeId)) store.seenAt(f.info.nodeId, f.address.host, f.address.port);
  return found;
}

export function formatList(found: Found[], store: FleetStore): string {
  const rows = [['NAME', 'NODE', 'ADDRESS', 'VERSION', 'FIRMWARE', 'STATE', 'VIA']];
  for (const f of found) {
    const i = f.info;
    if (!i) { rows.push(['?', '?', addressText(f.address), '-', '-', `unreachable: ${f.error ?? ''}`.slice(0, 60), f.via]); continue; }
    const ours = i.nodeId ? (store.get(i.nodeId) ? '' : ' (other fleet)') : '';
    const state = i.state === 'running' ? `${i.nodeState ?? 'starting'}${i.lock.locked ? ' (show lock)' : ''}` : i.state;
    rows.push([i.name, (i.nodeId ?? '-') + ours, addressText(f.address), i.version ?? '-', i.firmware ?? '-', state, f.via]);
  }
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((x, c) => x.padEnd(w[c]!)).join('  ').trimEnd()).join('\n');
}

// ---- adopt -------------------------------------------------------------------
export interface AdoptOptions {
  store: FleetStore;
  plan: PlannedNode[];
  show: string;
  broker: string;
  releaseKey?: string;
  credentials: CredentialIssuer;
  /** The permit-join window. */
  windowMs: number;
  static: AgentAddress[];
  /** Browse mDNS too (off: only static addresses and known nodes, e.g. across VLANs). */
  mdns?: boolean;
  say: Say;
}

export interface AdoptFigures { node: string; ok: boolean; ms: number; message: string }

/**
 * Opens a timed permit-join window (Zigbee2MQTT's permit_join): agents seen during it that the
 * plan names (or any new agent, for plan entries without a name) are adopted as they appear.
 * Closes when every planned node is adopted or the time is up.
 */
export async function adoptDuringWindow(o: AdoptOptions): Promise<AdoptFigures[]> {
  const pending = [...o.plan];
  const figures: AdoptFigures[] = [];
  const inFlight = new Map<string, Promise<void>>();
  const done = new Set<string>();
  const end = Date.now() + o.windowMs;
  o.say(`permit join open for ${Math.round(o.windowMs / 1000)} s: power on the robots to adopt (${pending.length} planned: ${pending.map((p) => p.name ? `${p.name}→${p.node}` : p.node).join(', ')})`);
  o.say(`credentials: ${o.credentials.describe()}`);
  const consider = async (a: AgentAddress) => {
    const key = addressText(a);
    if (inFlight.has(key) || done.has(key)) return;
    // Claim the address before the first await: mDNS and polling may offer it twice at once.
    let release!: () => void;
    inFlight.set(key, new Promise<void>((r) => { release = r; }));
    let info: AgentInfoT;
    try { info = await getInfo(a); } catch { inFlight.delete(key); release(); return; }
    const claimed = await decide(a, key, info);
    if (!claimed) inFlight.delete(key);
    release();
  };
  // An unnamed plan entry tries its pairing code on each new computer once: a wrong code means "not this one".
  const tried = new Set<string>();
  let unnamedInFlight = 0;
  const decide = async (a: AgentAddress, key: string, info: AgentInfoT): Promise<boolean> => {
    const mine = info.nodeId ? o.store.get(info.nodeId) : undefined;
    const plannedIdx = pending.findIndex((p) => p.name === info.name) >= 0 ? pending.findIndex((p) => p.name === info.name)
      : info.state === 'unadopted' ? pending.findIndex((p) => !p.name && !o.plan.some((q) => q.name === info.name) && !tried.has(`${p.node}@${key}`)) : -1;
    if (plannedIdx < 0) return false;
    if (info.state !== 'unadopted' && !mine) {
      o.say(`[${info.name}] is already adopted as ${info.nodeId} by another fleet: skipped (reset it on the node: kuroko node agent --reset)`);
      pending.splice(plannedIdx, 1);
      return false;
    }
    const p = pending.splice(plannedIdx, 1)[0]!;
    done.add(key);
    if (!p.name) unnamedInFlight++;
    inFlight.set(key, adoptOne(o, a, info, p, mine, figures).then((outcome) => {
      if (!p.name) unnamedInFlight--;
      if (outcome !== 'not-this-computer') return;
      tried.add(`${p.node}@${key}`);
      pending.push(p);
      done.delete(key);
      inFlight.delete(key);
    }));
    return true;
  };
  // Static addresses and known nodes are polled; mDNS is browsed in short rounds.
  // An unnamed entry in flight may come back (a wrong code: another computer), so keep looking until it settles.
  while ((pending.length || unnamedInFlight > 0) && Date.now() < end) {
    const round = Math.min(2000, Math.max(200, end - Date.now()));
    const seen: AgentAddress[] = [...o.static, ...o.store.nodes().map((n) => ({ host: n.host, port: n.port }))];
    if (o.mdns === false) await new Promise((r) => setTimeout(r, Math.min(round, 500)));
    else await browseMdns(round, (a) => { void consider(a); }).then((list) => seen.push(...list.map((l) => l.address)));
    await Promise.all(seen.map((a) => consider(a)));
  }
  await Promise.all(inFlight.values());
  o.say(`permit join closed`);
  for (const p of pending) {
    o.say(`not seen: ${p.name ?? `a new computer for ${p.node}`} — is it powered, on this network, and running kuroko node agent? mDNS does not cross VLANs or routers: give --static ADDRESS, or widen --time`);
    figures.push({ node: p.node, ok: false, ms: 0, message: 'not seen during the window' });
  }
  return figures;
}

/** A wrong pairing code for a plan entry without a name: that computer is someone else's. */
type AdoptOneOutcome = 'done' | 'not-this-computer';

async function adoptOne(o: AdoptOptions, a: AgentAddress, info: AgentInfoT, p: PlannedNode, mine: FleetNode | undefined, figures: AdoptFigures[]): Promise<AdoptOneOutcome> {
  const t0 = Date.now();
  o.say(`[${p.node}] adopting ${info.name} at ${addressText(a)} (release ${info.version ?? 'none'})`);
  try {
    // The code proves we can touch the computer; a node we adopted before takes our token instead.
    const pairingCode = mine ? undefined : planCode(p);
    const credentials = await o.credentials.issue(p.node);
    const token = mine?.token ?? o.store.tokenFor(p.node);
    const req: AdoptRequestT = {
      v: 1, nodeId: p.node, show: o.show, broker: o.broker, profile: p.profileText, token,
      ...(p.character ? { character: p.character } : {}), ...(o.releaseKey ? { releaseKey: o.releaseKey } : {}), ...(credentials ? { credentials } : {}),
    };
    // A new node: the whole request (token, credentials) sealed with its code, which itself is never sent.
    const body = pairingCode !== undefined ? { v: 1 as const, sealed: await sealWithCode(pairingCode, JSON.stringify(req), sealContext(info.name)) } : req;
    const r = await callAdopt(mine ? pinnedAddress({ ...mine, host: a.host, port: a.port }) : a, body, mine?.token ?? null, (x) => o.say(progressLine(p.node, x)));
    // The node now requires the token (and, with a certificate from the show CA, HTTPS): keep both even if the node is not ready yet.
    const ca = credentials?.[AGENT_TLS_FILES.ca] ?? mine?.ca;
    o.store.put({ nodeId: p.node, name: info.name, host: a.host, port: a.port, token, character: p.character, adoptedAt: Date.now(), ...(ca ? { ca } : {}) });
    o.say(resultLine(p.node, r));
    figures.push({ node: p.node, ok: r.ok, ms: Date.now() - t0, message: r.message });
  } catch (e) {
    const err = e as AgentCallError;
    if (!p.name && err.status === 401 && /^wrong pairing code/.test(err.message)) {
      o.say(`[${p.node}] ${info.name} did not take the code of ${p.node} (${err.message}): another computer's; waiting for the next new one`);
      return 'not-this-computer';
    }
    o.say(`[${p.node}] FAILED ${err.message}${err.next ? `\n[${p.node}]      next: ${err.next}` : ''}`);
    figures.push({ node: p.node, ok: false, ms: Date.now() - t0, message: err.message });
  }
  return 'done';
}

// ---- update / rollback --------------------------------------------------------
export interface NodeOutcome { node: string; ok: boolean; outcome: AgentResultT['outcome'] | 'unreachable'; version: string | null; message: string; ms: number }

function selectNodes(store: FleetStore, names: string[] | undefined): FleetNode[] {
  const all = store.nodes();
  if (!all.length) throw new Error(`no adopted nodes in ${store.file}: adopt some first (kuroko fleet adopt)`);
  if (!names) return all;
  return names.map((n) => {
    const f = store.get(n) ?? store.byName(n);
    if (!f) throw new Error(`no adopted node "${n}" (adopted: ${all.map((x) => x.nodeId).join(', ')})`);
    return f;
  });
}

async function onNode(n: FleetNode, say: Say, run: (a: AgentAddress, progress: (p: AgentProgressT) => void) => Promise<AgentResultT>): Promise<NodeOutcome> {
  const t0 = Date.now();
  try {
    const r = await run(pinnedAddress(n), (p) => say(progressLine(n.nodeId, p)));
    say(resultLine(n.nodeId, r));
    return { node: n.nodeId, ok: r.ok, outcome: r.outcome, version: r.version, message: r.message, ms: Date.now() - t0 };
  } catch (e) {
    const err = e as AgentCallError;
    const unreachable = err.status === undefined;
    say(`[${n.nodeId}] ${unreachable ? 'UNREACHABLE' : 'REFUSED'} ${err.message}${err.next ? `\n[${n.nodeId}]      next: ${err.next}` : unreachable ? `\n[${n.nodeId}]      next: is the node on? run kuroko fleet list (with --static ADDRESS if multicast is blocked)` : ''}`);
    return { node: n.nodeId, ok: false, outcome: unreachable ? 'unreachable' : 'refused', version: null, message: err.message, ms: Date.now() - t0 };
  }
}

/**
 * Staged rollout: the first node alone (the canary); only when it commits do the others update,
 * together. A canary that rolls back or is refused stops the rollout with the others untouched.
 */
export async function updateFleet(store: FleetStore, o: { release: string; nodes?: string[]; force: boolean; say: Say; staged?: boolean; healthS?: number }): Promise<NodeOutcome[]> {
  const nodes = selectNodes(store, o.nodes);
  const push = (n: FleetNode) => onNode(n, o.say, (a, progress) => pushUpdate(a, o.release, n.token, o.force, progress, o.healthS));
  if (o.staged === false || nodes.length === 1) return Promise.all(nodes.map(push));
  const [canary, ...rest] = nodes;
  o.say(`staged rollout: ${canary!.nodeId} first, then ${rest.map((n) => n.nodeId).join(', ')}`);
  const first = await push(canary!);
  if (!first.ok) {
    o.say(`rollout stopped: ${canary!.nodeId} did not commit (${first.outcome}); ${rest.map((n) => n.nodeId).join(', ')} untouched`);
    return [first, ...rest.map((n) => ({ node: n.nodeId, ok: false, outcome: 'refused' as const, version: null, message: 'not attempted: the first node did not commit', ms: 0 }))];
  }
  return [first, ...(await Promise.all(rest.map(push)))];
}

export async function rollbackFleet(store: FleetStore, o: { nodes?: string[]; force: boolean; say: Say }): Promise<NodeOutcome[]> {
  const nodes = selectNodes(store, o.nodes);
  return Promise.all(nodes.map((n) => onNode(n, o.say, (a, progress) => callRollback(a, n.token, o.force, progress))));
}

