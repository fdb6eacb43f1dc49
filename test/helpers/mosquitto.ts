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

export interface RunningMosquitto { url: string; port: number; pid?: number; stop(): Promise<void> }

export async function startMosquitto(): Promise<RunningMosquitto> {
  if (!MOSQUITTO_BIN) throw new Error('mosquitto is not installed: apt-get install mosquitto mosquitto-clients (.ci/run does this)');
  const port = await getPort();
  const dir = mkdtempSync(join(tmpdir(), 'kuroko-mosq-'));
  const conf = join(dir, 'mosquitto.conf');
  // The same settings as deploy/mosquitto/kuroko.conf, on a loopback test port.
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_queued_messages 10000',
    'max_inflight_messages 0',
    'set_tcp_nodelay true',
    'log_dest stderr',
    'log_type error',
  ].join('\n') + '\n');
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
    pid: proc.pid,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}
