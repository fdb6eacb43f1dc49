/**
 * The hub's container and the compose stack, for real: Debian's dockerd, a hub image built by
 * deploy/container/hub.Dockerfile from an x64 release bundle (base: debootstrap'ed bookworm +
 * this machine's Node 20, since no registry is reachable), and docker-compose 1.29 bringing up
 * hub + Mosquitto + Prometheus from deploy/container/compose.yaml (Mosquitto and Prometheus from
 * Debian's packages in the same base image, through the compose file's image variables). Grafana
 * has no Debian package and no registry is reachable, so it is not started here; its provisioning
 * files are checked for what they point at. The stack is secure by default: its access service
 * makes the show's credentials first, Mosquitto takes only TLS clients with a user name from outside,
 * and /metrics needs the token the access service wrote (the test reads both out of the hub container).
 * CI cost: ~2–4 min (debootstrap ~1 min, x64 bundle ~1 min, builds and start ~1 min).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import getPort from 'get-port';
import { connect } from 'mqtt';
import { parse } from 'yaml';
import { ROOT } from '../helpers/stage.ts';
import { waitFor } from '../helpers/wait.ts';
import { BASE_IMAGE, NODE_IMAGE, docker, ensureBaseImage, ensureDockerd, ensureNodeImage } from '../helpers/docker.ts';
import { createBundle, generateKeyFiles, loadSigningKey } from '../../deploy/release/index.ts';

const COMPOSE = join(ROOT, 'deploy/container/compose.yaml');
const HUB_IMAGE = 'kuroko-hub:test';
const project = `kurokotest${process.pid}`;
let dir: string;
let env: NodeJS.ProcessEnv;
const ports = { mqtt: 0, http: 0, prometheus: 0 };
const log = (l: string) => console.log(`[container] ${l}`);

function compose(args: string[], timeoutMs = 300000): string {
  const r = spawnSync('docker-compose', ['-f', COMPOSE, '-p', project, ...args], { encoding: 'utf8', env, timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`docker-compose ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
const containerOf = (service: string) => compose(['ps', '-q', service]).trim();

beforeAll(async () => {
  const t0 = performance.now();
  const lap = (what: string) => log(`${what} at ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  ensureDockerd();
  ensureBaseImage(log);
  ensureNodeImage();
  lap('base images ready');
  mkdirSync(join(ROOT, 'var'), { recursive: true });
  dir = mkdtempSync(join(ROOT, 'var', 'test-container-'));
  const k = generateKeyFiles(join(dir, 'keys'));
  await createBundle({ root: ROOT, arch: 'linux-x64', out: join(dir, 'ctx', 'kuroko-linux-x64.tar.gz'), key: loadSigningKey(k.privateFile), gzipLevel: 1 });
  lap('x64 bundle made');
  docker(['build', '-q', '-f', join(ROOT, 'deploy/container/hub.Dockerfile'), '--build-arg', `BASE_IMAGE=${NODE_IMAGE}`,
    '--build-arg', 'BUNDLE=kuroko-linux-x64.tar.gz', '-t', HUB_IMAGE, join(dir, 'ctx')], { timeoutMs: 600000 });
  lap('hub image built');
  ports.mqtt = await getPort();
  ports.http = await getPort();
  ports.prometheus = await getPort();
  env = {
    ...process.env,
    KUROKO_HUB_IMAGE: HUB_IMAGE, KUROKO_MOSQUITTO_IMAGE: BASE_IMAGE, KUROKO_PROMETHEUS_IMAGE: BASE_IMAGE,
    KUROKO_MQTT_PORT: String(ports.mqtt), KUROKO_HTTP_PORT: String(ports.http), KUROKO_PROMETHEUS_PORT: String(ports.prometheus),
    KUROKO_TOKEN: 'container-test-token',
  };
  compose(['up', '-d', 'mosquitto', 'hub', 'prometheus']);
  lap('stack up');
}, 1200000);

afterAll(() => {
  if (env) {
    const logs = spawnSync('docker-compose', ['-f', COMPOSE, '-p', project, 'logs', '--no-color', '--tail', '30'], { encoding: 'utf8', env });
    if (logs.stdout) log(`last logs:\n${logs.stdout.slice(-4000)}`);
    spawnSync('docker-compose', ['-f', COMPOSE, '-p', project, 'down', '-v', '--remove-orphans'], { env, timeout: 120000 });
  }
  spawnSync('docker', ['image', 'rm', '-f', HUB_IMAGE], { stdio: 'ignore' });
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 180000);

describe('hub container and compose stack', () => {
  it('the hub container runs as a non-root user and turns healthy', async () => {
    const hub = containerOf('hub');
    expect(docker(['exec', hub, 'id', '-u']).trim()).toBe('10001');
    await waitFor('the hub healthcheck', () => docker(['inspect', '--format', '{{.State.Health.Status}}', hub]).trim() === 'healthy', 120000, 1000);
    // Through the published port the hub sees a peer that is not its own machine: the token is needed.
    expect((await fetch(`http://127.0.0.1:${ports.http}/metrics`)).status).toBe(401);
    const token = docker(['exec', hub, 'cat', '/etc/kuroko/metrics/token']).trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    const metrics = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toMatch(/^kuroko_nodes_expected 4$/m);
  }, 180000);

  it('the hub talks to Mosquitto on the compose network: its retained state reaches a client outside', async () => {
    const viewer = JSON.parse(docker(['exec', containerOf('hub'), 'cat', '/etc/kuroko/access/clients/viewer.json'])) as { username: string; password: string; ca: string };
    const tls = { username: viewer.username, password: viewer.password, ca: viewer.ca, connectTimeout: 5000 };
    const client = connect(`mqtts://localhost:${ports.mqtt}`, { ...tls, reconnectPeriod: 500 });
    const states: string[] = [];
    client.on('message', (_t, p) => states.push(p.toString()));
    try {
      await waitFor('the broker', () => client.connected, 60000);
      // The same broker refuses a client without a user name (secure by default).
      const anonymous = connect(`mqtts://localhost:${ports.mqtt}`, { ca: viewer.ca, reconnectPeriod: 0, connectTimeout: 5000 });
      const refused = await new Promise<string>((res) => { anonymous.once('error', (e) => res(e.message)); anonymous.once('connect', () => res('connected')); });
      anonymous.end(true);
      expect(refused).toMatch(/authori[sz]ed|user ?name|password/i);
      await client.subscribeAsync('kuroko/v1/blade/hub/state', { qos: 1 });
      await waitFor('the hub state', () => states.some((s) => /online|live|ready/.test(s)), 60000);
    } finally {
      client.end(true);
    }
  }, 120000);

  it('Prometheus scrapes the hub', async () => {
    const query = async (q: string) => {
      const r = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/query?query=${encodeURIComponent(q)}`);
      return ((await r.json()) as { data?: { result?: { value: [number, string] }[] } }).data?.result ?? [];
    };
    await waitFor('a scrape of the hub', async () => (await query('up{job="kuroko-hub"}'))[0]?.value[1] === '1', 120000, 1000);
    const expected = await query('kuroko_nodes_expected{job="kuroko-hub"}');
    expect(expected[0]?.value[1]).toBe('4');
  }, 180000);

  it('the compose file wires Grafana to Prometheus and the shipped dashboard, and offers the llama.cpp profile', () => {
    const c = parse(readFileSync(COMPOSE, 'utf8'));
    const g = c.services.grafana;
    expect(g.volumes.join('\n')).toContain('../grafana/kuroko-dashboard.json:/var/lib/grafana/dashboards/kuroko.json');
    const ds = parse(readFileSync(join(ROOT, 'deploy/container/grafana/datasource.yml'), 'utf8'));
    expect(ds.datasources[0].url).toBe('http://prometheus:9090');
    JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/kuroko-dashboard.json'), 'utf8'));
    expect(c.services.llama.profiles).toEqual(['llm']);
    expect(Object.values(c.services).some((s) => (s as { privileged?: boolean }).privileged)).toBe(false);
    // docker-compose 1.29 itself accepts the file, with and without the llm profile
    expect(compose(['config', '--services'])).toMatch(/grafana/);
    expect(compose(['--profile', 'llm', 'config', '--services'])).toMatch(/llama/);
  });
});
