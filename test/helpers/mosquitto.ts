/**
 * Starts a real Mosquitto broker on a free port for a test. In CI a missing Mosquitto is a
 * failure, not a skip: .ci/run installs it. With `persistence` the broker saves retained
 * messages and sessions to disk (autosave every N s), and can be killed and restarted on the
 * same port, as the crash drills need.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import getPort from 'get-port';

export const MOSQUITTO_BIN = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));

export interface RunningMosquitto {
  url: string;
  port: number;
  /** The process id (for kill -STOP drills). */
  pid(): number | undefined;
  stop(): Promise<void>;
  /** Sends a signal and waits for the exit (SIGKILL: a crash; SIGTERM: a clean stop that saves). */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port, with the same persistence directory. */
  restart(): Promise<void>;
}

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

export interface MosquittoOptions {
  /** Save to disk: retained messages and persistent sessions survive a restart (up to the last save). */
  persistence?: { autosaveS: number };
  port?: number;
  /** The whole config instead of the default one (a secured broker: startSecureMosquitto). */
  lines?: (port: number) => string[];
}

export async function startMosquitto(o: MosquittoOptions = {}): Promise<RunningMosquitto> {
  if (!MOSQUITTO_BIN) throw new Error('mosquitto is not installed: apt-get install mosquitto mosquitto-clients (.ci/run does this)');
  const bin = MOSQUITTO_BIN;
  const port = o.port ?? await getPort();
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-mosq-'));
  // Started as root (CI), mosquitto drops to the `mosquitto` user: it must be able to write its database here.
  if (o.persistence) chmodSync(dir, 0o777);
  const conf = join(dir, 'mosquitto.conf');
  // The same settings as deploy/mosquitto/kuroko.conf, on a loopback test port.
  writeFileSync(conf, (o.lines ? o.lines(port) : [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    ...(o.persistence ? ['persistence true', `persistence_location ${dir}/`, `autosave_interval ${o.persistence.autosaveS}`] : ['persistence false']),
    'max_queued_messages 10000',
    'max_inflight_messages 0',
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
  ]).join('\n') + '\n');
  let proc: ChildProcess;
  let stderr = '';
  const launch = async () => {
    proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    const child = proc;
    // A test runner that dies leaves no broker behind.
    process.once('exit', () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
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
  };
  await launch();
  const kill = async (signal: NodeJS.Signals) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
  };
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    pid: () => proc.pid,
    stop: () => kill('SIGTERM'),
    kill,
    restart: launch,
  };
}
