/**
 * What the hub and the demo print about the broker: where it listens, and a mosquitto_pub line that
 * works as printed (with the operator's credentials and, over TLS, the show CA).
 */
import type { AccessStore } from './store.ts';

interface BrokerView {
  broker: { port: number; tlsPort?: number } | null;
  brokerUrl: string;
  o: { show: { show: string } };
}

export function describeBroker(hub: BrokerView, store: AccessStore | undefined): string[] {
  const root = `kuroko/v1/${hub.o.show.show}`;
  if (!hub.broker) return [`  broker  ${hub.brokerUrl}   topics ${root}/#`];
  const lines = [`  broker  mqtt://localhost:${hub.broker.port}${store ? ' (this machine only)' : ''}${hub.broker.tlsPort !== undefined ? `   mqtts://${'<this host>'}:${hub.broker.tlsPort} (TLS)` : ''}   topics ${root}/#`];
  if (!store) return [...lines, `  try     mosquitto_pub -h localhost -p ${hub.broker.port} -t ${root}/console/estop -n`];
  return [...lines, ...usageLines(store, { port: hub.broker.port, tlsPort: hub.broker.tlsPort })];
}

export function usageLines(store: AccessStore, o: { port?: number; tlsPort?: number } = {}): string[] {
  const op = store.get('operator') && !store.get('operator')?.revoked ? store.readBundle('operator') : null;
  if (!op) return [];
  const root = `kuroko/v1/${store.show}`;
  return [
    `  try     mosquitto_pub -h localhost -p ${o.port ?? 1883} -u operator -P ${op.password} -t ${root}/console/estop -n`,
    ...(o.tlsPort !== undefined || o.port === undefined ? [`  TLS     mosquitto_pub -h localhost -p ${o.tlsPort ?? 8883} --cafile ${store.dir}/ca.crt -u operator -P ${op.password} -t ${root}/console/estop -n`] : []),
    `          (operator credentials: ${store.bundleFile('operator')}; nodes: ${store.dir}/clients/NODE.json)`,
  ];
}
