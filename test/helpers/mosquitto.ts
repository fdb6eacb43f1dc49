/**
 * Starts a real Mosquitto broker on a free port for a test. In CI a missing Mosquitto is a
 * failure, not a skip: .ci/run installs it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import getPort from 'get-port';

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));

export interface RunningMosquitto { url: string; port: number; stop(): Promise<void> }

export interface RunningSecureMosquitto extends RunningMosquitto { tlsUrl: string; tlsPort: number }

/**
 * Mosquitto configured from a credentials store (the config `kuroko access` writes, on loopback test
 * ports): passwords, ACLs and TLS exactly as a show runs them.
 */
export async function startSecureMosquitto(accessDir: string): Promise<RunningSecureMosquitto> {
  const { mosquittoConf } = await import('../../hub/access/mosquitto.ts');
  const tlsPort = await getPort();
  let text = '';
  const m = await startMosquitto({
    lines: (port) => {
      text = mosquittoConf(accessDir, { plainPort: port, plainHost: '127.0.0.1', tlsPort, extra: [] }).replace(`listener ${tlsPort}\n`, `listener ${tlsPort} 127.0.0.1\n`);
      // Run as root (CI), Mosquitto would switch to its own user and could not read the test's temporary store.
      return [...text.split('\n'), 'user root', 'persistence false', 'log_dest stderr', 'log_type error'];
    },
  });
  return { ...m, tlsUrl: `mqtts://localhost:${tlsPort}`, tlsPort };
}

export async function startMosquitto(o: { lines?: (port: number) => string[] } = {}): Promise<RunningMosquitto> {
  if (!MOSQUITTO_BIN) throw new Error('mosquitto is not installed: apt-get install mosquitto mosquitto-clients (.ci/run does this)');
  const port = await getPort();
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  // The same settings as deploy/mosquitto/kuroko.conf, on a loopback test port.
  writeFileSync(conf, (o.lines ? o.lines(port) : [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_queued_messages 10000',
    'max_inflight_messages 0',
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
  ]).join('\n') + '\n');
  const proc: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d) => (stderr += d));
  const deadline = Date.now() + 10000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${stderr}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}
