/**
 * The fleet folder (default var/fleet): the nodes this fleet adopted, with the bearer token each
 * agent now requires and the address it was last seen at. Mode 0600: the tokens let whoever
 * holds them update and roll back the robots.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

export interface FleetNode {
  nodeId: string; name: string; host: string; port: number; token: string; character?: string; adoptedAt: number;
  /** The show CA this agent's HTTPS certificate must chain to (pinned at adoption); none: plain HTTP. */
  ca?: string;
}
interface FleetFile { v: 1; nodes: Record<string, FleetNode> }

export class FleetStore {
  readonly file: string;
  private data: FleetFile;

  constructor(readonly dir: string) {
    this.file = join(dir, 'fleet.json');
    if (existsSync(this.file)) {
      try { this.data = JSON.parse(readFileSync(this.file, 'utf8')) as FleetFile; } catch (e) {
        throw new Error(`${this.file} cannot be read (${(e as Error).message}); fix or move it (it holds the nodes' tokens)`);
      }
    } else this.data = { v: 1, nodes: {} };
  }

  nodes(): FleetNode[] { return Object.values(this.data.nodes).sort((a, b) => a.nodeId.localeCompare(b.nodeId)); }
  get(nodeId: string): FleetNode | undefined { return this.data.nodes[nodeId]; }
  byName(name: string): FleetNode | undefined { return this.nodes().find((n) => n.name === name); }

  /** The token for a node: its current one when re-adopting, else a new random one. */
  tokenFor(nodeId: string): string { return this.data.nodes[nodeId]?.token ?? randomBytes(24).toString('base64url'); }

  put(n: FleetNode): void {
    // One name, one node id: re-adopting a computer under another id drops its old entry.
    for (const [id, old] of Object.entries(this.data.nodes)) if (old.name === n.name && id !== n.nodeId) delete this.data.nodes[id];
    this.data.nodes[n.nodeId] = n;
    this.save();
  }

  seenAt(nodeId: string, host: string, port: number): void {
    const n = this.data.nodes[nodeId];
    if (n && (n.host !== host || n.port !== port)) { n.host = host; n.port = port; this.save(); }
  }

  private save(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.file);
  }
}
