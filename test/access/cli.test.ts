/**
 * Secure by default, as a user meets it: `kuroko access`, a hub that makes its credentials on first
 * run and prints a mosquitto_pub line that works as printed, and a node that will not start without
 * credentials unless told --insecure.
 */
import { describe, it, expect } from 'vitest';
import { spawn, spawnSync, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUROKO, ROOT, SIM_PROFILE } from '../helpers/stage.ts';
import { waitFor } from '../helpers/wait.ts';

const QUICK = join(ROOT, 'test/fixtures/quick-show.yaml');
/** The user's environment: no test-suite insecure switch. */
const userEnv = () => { const e = { ...process.env }; delete e.KUROKO_INSECURE; return e; };

describe('secure by default', () => {
  it('a node without credentials refuses to start, naming --credentials and --insecure', () => {
    const r = spawnSync(process.execPath, [KUROKO, 'edge', '--show', 'quick', '--node', 'ann', '--profile', SIM_PROFILE, '--no-model'], { encoding: 'utf8', env: userEnv() });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--credentials var\/access\/SHOW\/clients\/ann\.json/);
    expect(r.stderr).toMatch(/--insecure/);
  });

  it('kuroko access init, list, revoke', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'kuroko-cli-')), 'access');
    const out = execSync(`"${process.execPath}" "${KUROKO}" access init --show "${QUICK}" --dir "${dir}"`, { encoding: 'utf8' });
    expect(out).toMatch(/node {5}ann/);
    expect(out).toMatch(/mosquitto_pub -h localhost -p 1883 -u operator -P \S+ -t kuroko\/v1\/quick\/console\/estop -n/);
    execSync(`"${process.execPath}" "${KUROKO}" access revoke --show quick --dir "${dir}" --id viewer`);
    const list = execSync(`"${process.execPath}" "${KUROKO}" access list --show quick --dir "${dir}"`, { encoding: 'utf8' });
    expect(list).toMatch(/viewer {3}viewer +revoked/);
    const bad = spawnSync(process.execPath, [KUROKO, 'access', 'add', '--show', 'quick', '--dir', dir, '--id', 'x', '--role', 'king'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--role must be one of hub, node, operator, viewer/);
  });

  it('a hub makes its credentials on first run and prints a mosquitto_pub line that works as printed', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'kuroko-first-run-'));
    const hub = spawn(process.execPath, [KUROKO, 'hub', '--show', QUICK, '--port', '0', '--tls-port', '0', '--bind', '127.0.0.1', '--http-port', '0', '--journal-dir', join(cwd, 'journal'), '--log-level', 'warn'], { cwd, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    hub.stdout!.on('data', (d) => (out += d));
    try {
      await waitFor('the hub to print its mosquitto_pub line', () => /try +(mosquitto_pub .*)\n/.exec(out), 120000);
      expect(out).toMatch(/created credentials for show quick/);
      expect(out).not.toMatch(/INSECURE|--insecure/);
      const line = /try +(mosquitto_pub .*)\n/.exec(out)![1]!;
      expect(line).toMatch(/-u operator -P \S+/);
      execSync(line, { cwd });
      await waitFor('the e-stop journaled with who sent it', () => {
        const f = readdirSync(join(cwd, 'journal')).find((n) => n.endsWith('.jsonl'));
        return f && /"type":"audit","action":"estop","by":"operator","role":"operator"/.test(readFileSync(join(cwd, 'journal', f), 'utf8'));
      }, 20000);
      const tls = /TLS +(mosquitto_pub .*)\n/.exec(out)![1]!;
      execSync(tls, { cwd });
      // Anonymous is refused (mosquitto_pub exits 5: not authorised).
      const anon = spawnSync('sh', ['-c', line.replace(/-u operator -P \S+ /, '')], { cwd });
      expect(anon.status).not.toBe(0);
    } finally {
      hub.kill('SIGTERM');
      await new Promise((r) => hub.once('exit', r));
    }
  });
});
