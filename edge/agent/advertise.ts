/**
 * The agent's mDNS advertisement: `_kuroko._tcp` with a TXT record (name, node id, version,
 * state), so `kuroko fleet list` — and any DNS-SD browser such as avahi-browse — finds it.
 * Each agent publishes its own host name (`<name>.local`): several agents on one machine (or in
 * network namespaces sharing a hostname) must not answer for each other's addresses.
 */
import { Bonjour, type Service } from 'bonjour-service';
import type { Logger } from 'pino';
import { AGENT_SERVICE_TYPE, type AgentTxt } from '../../protocol/agent-api.ts';

export class Advertiser {
  private bonjour: Bonjour | null = null;
  private service: Service | null = null;
  private lastTxt = '';

  constructor(private readonly o: { name: string; port: number; log: Logger; interface?: string }) {}

  /** Publishes, or re-publishes when the TXT record changed (bonjour-service cannot edit a TXT in place). */
  publish(txt: AgentTxt): void {
    const key = JSON.stringify(txt);
    if (key === this.lastTxt && this.service) return;
    this.lastTxt = key;
    if (!this.bonjour) {
      this.bonjour = new Bonjour(this.o.interface ? { interface: this.o.interface } as never : undefined, (e: Error) => this.o.log.warn(`mDNS: ${e.message}`));
    }
    const previous = this.service;
    const start = () => {
      this.service = this.bonjour!.publish({ name: this.o.name, type: AGENT_SERVICE_TYPE, port: this.o.port, host: `${this.o.name}.local`, txt: { ...txt }, disableIPv6: true });
      this.service.on('error', (e: Error) => this.o.log.warn(`mDNS: ${e.message}`));
    };
    if (previous) previous.stop?.(start); else start();
  }

  async close(): Promise<void> {
    const b = this.bonjour;
    if (!b) return;
    this.bonjour = null;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1500);
      b.unpublishAll(() => { clearTimeout(t); b.destroy(); resolve(); });
    });
  }
}
