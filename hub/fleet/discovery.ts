/**
 * Finding the fleet's agents: mDNS (`_kuroko._tcp`, the way ESPHome devices are found) for a
 * short window, plus static addresses for networks that block multicast or span VLANs (mDNS
 * does not cross subnets), plus the last known address of every adopted node. Every candidate is
 * then asked GET /v1/info: the answer, not the advertisement, is what the fleet believes.
 */
import { Bonjour } from 'bonjour-service';
import { AGENT_DEFAULT_PORT, AGENT_SERVICE_TYPE, type AgentInfoT } from '../../protocol/agent-api.ts';
import { addressText, getInfo, type AgentAddress } from './agent-client.ts';

export interface Found { address: AgentAddress; via: 'mdns' | 'static' | 'known'; info: AgentInfoT | null; error?: string }

/** Parses "host", "host:port" or "[v6]:port" into an address (the agent's default port when none). */
export function parseAddress(text: string): AgentAddress {
  const t = text.trim();
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([^:]+)(?::(\d+))?$/.exec(t);
  if (!m || !m[1]) throw new Error(`"${text}" is not an address: use HOST or HOST:PORT`);
  const port = m[2] ? Number(m[2]) : AGENT_DEFAULT_PORT;
  if (!(port > 0 && port < 65536)) throw new Error(`"${text}": port must be 1..65535`);
  return { host: m[1], port };
}

/** Browses mDNS for `ms` and returns every agent address seen (IPv4 preferred). */
export async function browseMdns(ms: number, onFound?: (a: AgentAddress, name: string) => void): Promise<Array<{ address: AgentAddress; name: string }>> {
  const bonjour = new Bonjour();
  const seen = new Map<string, { address: AgentAddress; name: string }>();
  const browser = bonjour.find({ type: AGENT_SERVICE_TYPE }, (s) => {
    const host = s.addresses?.find((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x)) ?? s.referer?.address;
    if (!host) return;
    const a = { host, port: s.port };
    if (!seen.has(addressText(a))) { seen.set(addressText(a), { address: a, name: s.name }); onFound?.(a, s.name); }
  });
  await new Promise((r) => setTimeout(r, ms));
  browser.stop();
  await new Promise<void>((r) => bonjour.destroy(() => r()));
  return [...seen.values()];
}

export async function discover(o: { mdnsMs: number; static: AgentAddress[]; known: AgentAddress[] }): Promise<Found[]> {
  const candidates = new Map<string, { address: AgentAddress; via: Found['via'] }>();
  for (const a of o.known) candidates.set(addressText(a), { address: a, via: 'known' });
  for (const a of o.static) candidates.set(addressText(a), { address: a, via: 'static' });
  if (o.mdnsMs > 0) for (const f of await browseMdns(o.mdnsMs)) candidates.set(addressText(f.address), { address: f.address, via: 'mdns' });
  const found = await Promise.all([...candidates.values()].map(async (c): Promise<Found> => {
    try { return { ...c, info: await getInfo(c.address) }; } catch (e) { return { ...c, info: null, error: (e as Error).message }; }
  }));
  // One row per agent: the same agent reached by two addresses is shown once (mDNS first).
  const byName = new Map<string, Found>();
  const unreachable: Found[] = [];
  for (const f of found) {
    if (!f.info) { unreachable.push(f); continue; }
    const prev = byName.get(f.info.name);
    if (!prev || (prev.via !== 'mdns' && f.via === 'mdns')) byName.set(f.info.name, f);
  }
  return [...[...byName.values()].sort((a, b) => a.info!.name.localeCompare(b.info!.name)), ...unreachable];
}
