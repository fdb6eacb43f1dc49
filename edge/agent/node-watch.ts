/**
 * The agent's view of its node and of the show, from MQTT: the node's retained state and its
 * heartbeats (is the new release healthy?), and the hub's retained show state (the show lock).
 * It only listens; it never publishes on the show's topics.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { decode, filter, parseTopic, type NodeStateT, type ShowStateT } from '../../protocol/index.ts';

export interface HealthVerdict { ok: boolean; reason: string }

export class NodeWatch {
  private client: MqttClient | null = null;
  nodeState: { value: NodeStateT; at: number } | null = null;
  showState: ShowStateT | null = null;
  private heartbeats: Array<{ at: number; uptimeS: number }> = [];
  private waiters = new Set<() => void>();

  /** `login`: the node's user name, password and TLS (a secured stage); the ACLs let the node identity read these three channels. */
  constructor(private readonly o: { show: string; nodeId: string; broker: string; log: Logger; login?: IClientOptions }) {}

  start(): void {
    const { show, nodeId } = this.o;
    const client = connect(this.o.broker, { clientId: `kuroko-${show}-agent-${nodeId}`, clean: true, keepalive: 10, reconnectPeriod: 1000, connectTimeout: 5000, ...this.o.login });
    this.client = client;
    client.on('connect', () => {
      client.subscribe([filter(show, 'nodeState', { node: nodeId }), filter(show, 'nodeHeartbeat', { node: nodeId }), filter(show, 'showState', {})], { qos: 1 }, (err, granted) => {
        // A refused subscription (0x80) leaves the agent blind: no update could ever commit. Say which.
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (err || refused.length) this.o.log.error(`agent: the broker refused ${refused.join(', ') || err?.message}: the node's credentials must allow reading them (kuroko access writes ACLs that do)`);
      });
    });
    let lastError = '';
    client.on('error', (e) => { if (e.message !== lastError) this.o.log.warn(`agent: MQTT ${e.message}`); lastError = e.message; });
    client.on('message', (t, payload) => {
      const p = parseTopic(show, t);
      if (!p) return;
      const now = Date.now();
      if (p.name === 'nodeState') { const m = decode('nodeState', payload); if (m.ok) this.nodeState = { value: m.value, at: now }; }
      else if (p.name === 'nodeHeartbeat') {
        const m = decode('nodeHeartbeat', payload);
        if (m.ok) { this.heartbeats.push({ at: now, uptimeS: m.value.uptimeS }); if (this.heartbeats.length > 20) this.heartbeats.shift(); }
      } else if (p.name === 'showState') { const m = decode('showState', payload); if (m.ok) this.showState = m.value; }
      for (const w of [...this.waiters]) w();
    });
  }

  /**
   * The show lock, balena's update lock for a stage: no update while the show is armed or a scene
   * runs. `force` passes a running scene or an armed show only for a node that is not armed itself.
   */
  lock(force = false): { locked: boolean; reason: string } {
    const node = this.nodeState?.value.state;
    if (node === 'armed') return { locked: true, reason: `node ${this.o.nodeId} is armed: disarm it first (no update while a node is armed, not even with --force)` };
    const s = this.showState;
    const why = s?.armed ? 'the show is armed' : s?.status === 'running' ? `scene ${s.scene ?? '?'} is running` : null;
    if (!why) return { locked: false, reason: 'no show armed, no scene running' };
    if (force) return { locked: false, reason: `${why}, but --force was given and this node is not armed` };
    return { locked: true, reason: `${why}: update after the show, or disarm (--force passes only for an unarmed node)` };
  }

  /**
   * Waits until the node process started at `since` says `ready` (or `armed`) and sends
   * `beats` heartbeats from that process (its uptime is younger than the spawn); fails when
   * `failed()` says so (the process died) or at the deadline.
   */
  async waitHealthy(since: number, timeoutMs: number, failed: () => string | null, beats = 2): Promise<HealthVerdict> {
    const deadline = since + timeoutMs;
    return new Promise<HealthVerdict>((resolve) => {
      const check = () => {
        const dead = failed();
        if (dead) return finish({ ok: false, reason: dead });
        // Strictly after the spawn: the old process says "lost (node shut down)" just before it.
        const st = this.nodeState;
        const ready = !!st && st.value.ts >= since && (st.value.state === 'ready' || st.value.state === 'armed');
        const maxUptime = (Date.now() - since) / 1000 + 1;
        const fresh = this.heartbeats.filter((h) => h.at >= since && h.uptimeS <= maxUptime).length;
        if (ready && fresh >= beats) return finish({ ok: true, reason: `ready, ${fresh} heartbeats in ${Date.now() - since} ms` });
        if (Date.now() >= deadline) {
          const state = st && st.value.ts >= since ? `${st.value.state}${st.value.reason ? ` (${st.value.reason})` : ''}` : 'no state from the new process';
          return finish({ ok: false, reason: `not ready with heartbeats within ${Math.round(timeoutMs / 1000)} s: last ${state}, ${fresh} heartbeats` });
        }
      };
      const timer = setInterval(check, 200);
      const finish = (v: HealthVerdict) => { clearInterval(timer); this.waiters.delete(check); resolve(v); };
      this.waiters.add(check);
      check();
    });
  }

  async stop(): Promise<void> {
    await this.client?.endAsync(true).catch(() => undefined);
    this.client = null;
  }
}
