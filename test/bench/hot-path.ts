/**
 * Where a cue's time goes, for `npm run bench`: the CPU cost of each step Kuroko adds to the raw
 * MQTT round trip (encode + check a cue, the endpoint's dispatch of a cue and of its ack: topic
 * parse, JSON, schema), and the background traffic each message competes with on the broker
 * (heartbeats, telemetry, the acks and transcript every cue brings), counted by channel.
 */
import { performance } from 'node:perf_hooks';
import { connect } from 'mqtt';
import { encode, decode, parseTopic, topic, precompileValidators, type CueT, type CueAckT } from '../../protocol/index.ts';
import { newCueId } from '../../hub/playback.ts';

function perCallUs(n: number, fn: () => void): number {
  for (let i = 0; i < 1000; i++) fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t0) * 1000) / n;
}

/** Microseconds per call of each in-process step of a cue's round trip. */
export function codecBreakdown(): [string, string][] {
  precompileValidators();
  const at = 1000;
  const cue: CueT = { v: 1, id: newCueId(), scene: 's', seq: 1, at, deadline: at + 500, ts: Date.now(), kind: 'line', params: { character: 'ann', text: 'Good evening, and welcome to the show.' } };
  const ack: CueAckT = { v: 1, cue: cue.id, node: 'ann', status: 'accepted', showTime: at, ts: Date.now() };
  const cueText = encode('nodeCue', cue);
  const ackText = encode('nodeCueAck', ack);
  const cueTopic = topic('bench', 'nodeCue', { node: 'ann' });
  const ackTopic = topic('bench', 'nodeCueAck', { node: 'ann' });
  const N = 20000;
  const rows: [string, number][] = [
    ['hub: encode + check a cue', perCallUs(N, () => encode('nodeCue', cue))],
    ['node: parse topic of a cue', perCallUs(N, () => parseTopic('bench', cueTopic))],
    ['node: decode + check a cue', perCallUs(N, () => decode('nodeCue', cueText))],
    ['node: encode + check an ack', perCallUs(N, () => encode('nodeCueAck', ack))],
    ['hub: parse topic of an ack', perCallUs(N, () => parseTopic('bench', ackTopic))],
    ['hub: decode + check an ack', perCallUs(N, () => decode('nodeCueAck', ackText))],
  ];
  const total = rows.reduce((s, r) => s + r[1], 0);
  return [...rows.map(([k, v]) => [k, `${v.toFixed(1)} µs`] as [string, string]), ['all of the above, per cue', `${total.toFixed(1)} µs`]];
}

/** Messages per second on the broker under the show's root, by channel, over `ms`. */
export async function trafficCensus(url: string, show: string, ms = 2000): Promise<[string, string][]> {
  const c = connect(url, { clean: true, reconnectPeriod: 0 });
  await new Promise<void>((r, j) => { c.once('connect', () => r()); c.once('error', j); });
  const counts = new Map<string, number>();
  c.on('message', (t) => {
    const p = parseTopic(show, t);
    const k = p?.name ?? 'other';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  });
  await c.subscribeAsync(`kuroko/v1/${show}/#`, { qos: 0 });
  await new Promise((r) => setTimeout(r, 300)); // retained values first
  counts.clear();
  await new Promise((r) => setTimeout(r, ms));
  await c.endAsync();
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...[...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, `${((v * 1000) / ms).toFixed(0)} msg/s`] as [string, string]), ['all', `${((total * 1000) / ms).toFixed(0)} msg/s`]];
}
