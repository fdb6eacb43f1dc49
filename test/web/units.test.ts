/**
 * The web and metrics parts that need no stage: curator countdown, dead air, nvidia-smi and
 * /proc/net/dev parsing, the token, the model metrics, the static file guard.
 */
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { Curator } from '../../hub/web/curator.ts';
import { DeadAirMeter } from '../../hub/metrics/dead-air.ts';
import { parseNvidiaSmi, findOnPath, startGpuSampler, type GpuSample } from '../../hub/metrics/gpu.ts';
import { parseNetDev } from '../../hub/metrics/netdev.ts';
import { resolveToken, tokenMatches } from '../../hub/web/auth.ts';
import { EventEmitter } from 'node:events';
import { recordModelRequest, processRegistry, createHubMetrics } from '../../hub/metrics.ts';
import type { Hub } from '../../hub/hub.ts';
import { serveStatic } from '../../hub/web/static.ts';

afterEach(() => { vi.useRealTimers(); });

describe('Curator', () => {
  it('approves at once when curator mode is off', async () => {
    const c = new Curator();
    await expect(c.submit({ character: 'a', text: 'hi' })).resolves.toBe('approved');
    expect(c.pending()).toEqual([]);
  });

  it('emits the line, and approves it when the countdown ends', async () => {
    vi.useFakeTimers();
    const c = new Curator(5000);
    c.setEnabled(true);
    const seen: unknown[] = [];
    c.on('curate', (r) => seen.push(r));
    const settled: unknown[] = [];
    c.on('settled', (s) => settled.push(s));
    let result: string | undefined;
    void c.submit({ character: 'kenzaki', text: 'We go tonight.', emotion: 'determined' }).then((d) => { result = d; });
    expect(seen).toMatchObject([{ id: 'c1', character: 'kenzaki', text: 'We go tonight.', emotion: 'determined', deadlineMs: 5000 }]);
    await vi.advanceTimersByTimeAsync(4999);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toBe('approved');
    expect(settled).toEqual([{ id: 'c1', decision: 'approved', by: 'timeout' }]);
    expect(c.decide('c1', 'vetoed')).toBe(false);
  });

  it('takes the operator decision before the countdown, and once only', async () => {
    const c = new Curator();
    c.setEnabled(true);
    const veto = c.submit({ character: 'a', text: 'x', deadlineMs: 60000 });
    const regen = c.submit({ character: 'b', text: 'y', deadlineMs: 60000 });
    expect(c.pending().map((p) => p.id)).toEqual(['c1', 'c2']);
    expect(c.decide('c1', 'vetoed')).toBe(true);
    expect(c.decide('c1', 'approved')).toBe(false);
    expect(c.decide('c2', 'regenerate')).toBe(true);
    await expect(veto).resolves.toBe('vetoed');
    await expect(regen).resolves.toBe('regenerate');
  });

  it('lets waiting lines through when turned off or closed', async () => {
    const c = new Curator();
    c.setEnabled(true);
    const a = c.submit({ character: 'a', text: 'x', deadlineMs: 60000 });
    c.setEnabled(false);
    await expect(a).resolves.toBe('approved');
    c.setEnabled(true);
    const b = c.submit({ character: 'a', text: 'x', deadlineMs: 60000 });
    c.close();
    await expect(b).resolves.toBe('approved');
  });
});

describe('DeadAirMeter', () => {
  it('measures the gap from the end of a line to the next start, per scene, overlaps as zero', () => {
    const m = new DeadAirMeter();
    expect(m.next({ scene: 's', startShowTime: 1000, durationMs: 2000 })).toBeNull();
    expect(m.next({ scene: 's', startShowTime: 3500, durationMs: 1000 })).toBe(500);
    expect(m.next({ scene: 's', startShowTime: 4200, durationMs: 1000 })).toBe(0); // overlap
    expect(m.next({ scene: 's', startShowTime: 5200, durationMs: 100 })).toBe(0);
    expect(m.next({ scene: 't', startShowTime: 9000, durationMs: 100 })).toBeNull(); // a new scene
    // A node covering for a silent hub speaks outside any scene: not part of the scene's timing.
    expect(m.next({ scene: null, startShowTime: 9500, durationMs: 100 })).toBeNull();
    expect(m.next({ scene: 't', startShowTime: 9300, durationMs: 100 })).toBe(200);
  });
});

describe('nvidia-smi', () => {
  it('parses utilisation and memory, one line per GPU, skipping [N/A]', () => {
    expect(parseNvidiaSmi('37, 1024\n5, 80000\n[N/A], [N/A]\n')).toEqual([
      { gpu: '0', utilization: 0.37, memoryUsedBytes: 1024 * 1048576 },
      { gpu: '1', utilization: 0.05, memoryUsedBytes: 80000 * 1048576 },
    ]);
  });

  it('is looked for on the PATH and sampled from there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-smi-'));
    try {
      expect(findOnPath('nvidia-smi', dir)).toBeNull();
      const exe = join(dir, 'nvidia-smi');
      writeFileSync(exe, '#!/bin/sh\necho "$1" > "$(dirname "$0")/args"\necho "42, 2048"\n');
      chmodSync(exe, 0o755);
      expect(findOnPath('nvidia-smi', `/nonexistent:${dir}`)).toBe(exe);
      const got = await new Promise<GpuSample[]>((resolve, reject) => {
        const s = startGpuSampler({ exe, intervalMs: 60000, onSample: (x) => { s.stop(); resolve(x); }, onError: reject });
      });
      expect(got).toEqual([{ gpu: '0', utilization: 0.42, memoryUsedBytes: 2048 * 1048576 }]);
      expect(readFileSync(join(dir, 'args'), 'utf8').trim()).toBe('--query-gpu=utilization.gpu,memory.used');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('parses /proc/net/dev', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 4638567   12345    0    0    0     0          0         0  4638567   12345    0    0    0     0       0          0
  eth0: 1540803702 99 0 0 0 0 0 0 4131437 88 0 0 0 0 0 0
`;
  expect(parseNetDev(text)).toEqual(new Map([['lo', { rxBytes: 4638567, txBytes: 4638567 }], ['eth0', { rxBytes: 1540803702, txBytes: 4131437 }]]));
});

describe('the control token', () => {
  it('comes from the flag, then KUROKO_TOKEN, else is random', () => {
    expect(resolveToken('flag-token-1', { KUROKO_TOKEN: 'env-token-1' })).toEqual({ token: 'flag-token-1', generated: false });
    expect(resolveToken(undefined, { KUROKO_TOKEN: 'env-token-1' })).toEqual({ token: 'env-token-1', generated: false });
    const a = resolveToken(undefined, {});
    expect(a.generated).toBe(true);
    expect(a.token.length).toBeGreaterThanOrEqual(20);
    expect(resolveToken(undefined, {}).token).not.toBe(a.token);
    expect(() => resolveToken('short', {})).toThrow(/at least 8/);
  });

  it('matches only itself', () => {
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('secret-token', 'secret-tokem')).toBe(false);
    expect(tokenMatches('secret-token', 'secret-token-longer')).toBe(false);
    expect(tokenMatches('secret-token', '')).toBe(false);
    expect(tokenMatches('secret-token', undefined)).toBe(false);
  });
});

it('recordModelRequest feeds the model metrics', async () => {
  recordModelRequest({ durationMs: 500, tokens: 40, ok: true, backend: 'unit' });
  recordModelRequest({ durationMs: 2000, tokens: 0, ok: false, backend: 'unit' });
  const text = await processRegistry.metrics();
  expect(text).toMatch(/^kuroko_model_requests_total\{backend="unit",outcome="ok"\} 1$/m);
  expect(text).toMatch(/^kuroko_model_requests_total\{backend="unit",outcome="error"\} 1$/m);
  expect(text).toMatch(/^kuroko_model_request_duration_seconds_sum\{backend="unit"\} 2.5$/m);
  expect(text).toMatch(/^kuroko_model_tokens_total\{backend="unit"\} 40$/m);
  // 40 tokens in 0.5 s = 80 tokens/s, in the 80 bucket.
  expect(text).toMatch(/^kuroko_model_tokens_per_second_bucket\{le="80",backend="unit"\} 1$/m);
  expect(text).toMatch(/^kuroko_model_tokens_per_second_bucket\{le="40",backend="unit"\} 0$/m);
});

it('serves nothing outside the public folder', async () => {
  const res = { writeHead: vi.fn(), end: vi.fn() } as unknown as ServerResponse;
  expect(await serveStatic('/../metrics.ts', res)).toBe(false);
  expect(await serveStatic('/%2e%2e/server.ts', res)).toBe(false);
  expect(await serveStatic('/nope.js', res)).toBe(false);
  expect(await serveStatic('/style.css', res)).toBe(true);
});

describe('createHubMetrics', () => {
  it('counts restarts, faults, e-stops, rejections and dead air from the hub events', async () => {
    const nodes = [{ id: 'a', state: 'ready', rssBytes: 50_000_000 }, { id: 'b', state: 'lost' }];
    const registry = { all: () => nodes, isOnline: (id: string) => nodes.find((n) => n.id === id)!.state !== 'lost' };
    const hub = Object.assign(new EventEmitter(), { registry, playback: new EventEmitter(), rejected: { count: 0 }, estopActive: false });
    const m = createHubMetrics(hub as unknown as Hub, { pathEnv: '' });
    try {
      const birth = (bdSeq: number) => hub.emit('birth', 'a', { bdSeq });
      birth(0); birth(0); birth(1);
      hub.emit('node-state', { id: 'a', state: 'fault' }, 'ready');
      hub.emit('show-state', { estop: true });
      hub.emit('show-state', { estop: true });
      hub.emit('show-state', { estop: false });
      hub.emit('show-state', { estop: true });
      hub.emit('telemetry', 'a', { sensor: 'metrics-queue', value: 3, unit: 'count' });
      hub.emit('telemetry', 'a', { sensor: 'front-distance', value: 42, unit: 'cm' });
      hub.playback.emit('ack-latency', { node: 'a', latencyMs: 12 });
      hub.emit('line', { character: 'x', scene: 's', startShowTime: 0, durationMs: 1000 });
      hub.emit('line', { character: 'y', scene: 's', startShowTime: 1300, durationMs: 1000 });
      hub.emit('hub-error', 'mqtt', new Error('x'));
      hub.rejected.count = 2;
      let text = await m.metrics();
      expect(text).toMatch(/^kuroko_node_births_total\{node="a"\} 3$/m);
      expect(text).toMatch(/^kuroko_node_restarts_total\{node="a"\} 1$/m);
      expect(text).toMatch(/^kuroko_node_faults_total\{node="a"\} 1$/m);
      expect(text).toMatch(/^kuroko_estop_events_total 2$/m);
      expect(text).toMatch(/^kuroko_node_metric\{node="a",metric="queue",unit="count"\} 3$/m);
      expect(text).toMatch(/^kuroko_node_sensor_value\{node="a",sensor="front-distance",unit="cm"\} 42$/m);
      expect(text).not.toContain('sensor="metrics-queue"');
      expect(text).toMatch(/^kuroko_cue_ack_latency_seconds_sum\{node="a"\} 0.012$/m);
      expect(text).toMatch(/^kuroko_dead_air_seconds_sum 0.3$/m);
      expect(text).toMatch(/^kuroko_process_errors_total\{process="hub",kind="mqtt"\} 1$/m);
      expect(text).toMatch(/^kuroko_rejected_messages_total\{process="hub"\} 2$/m);
      expect(text).toMatch(/^kuroko_nodes_online 1$/m);
      expect(text).toMatch(/^kuroko_node_state\{node="b",state="lost"\} 1$/m);
      // A lost node's memory is not reported as current.
      expect(text).toMatch(/^kuroko_node_resident_memory_bytes\{node="a"\} 50000000$/m);
      expect(text).not.toMatch(/kuroko_node_resident_memory_bytes\{node="b"\}/);
      hub.rejected.count = 5;
      text = await m.metrics();
      expect(text).toMatch(/^kuroko_rejected_messages_total\{process="hub"\} 5$/m);
    } finally {
      m.close();
    }
    expect(hub.listenerCount('line')).toBe(0);
    expect(hub.playback.listenerCount('ack-latency')).toBe(0);
  });
});
