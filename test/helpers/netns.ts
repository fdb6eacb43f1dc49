/**
 * A small network for tests, made of Linux network namespaces: one namespace per machine (a hub
 * and the robots' computers), each with one veth interface `eth0` plugged into a bridge that
 * lives in its own "switch" namespace. Every address exists only inside these namespaces, so
 * nothing is bound on the host's network, and multicast (mDNS) works as on a real LAN.
 * Needs root (CI runs as root) and iproute2.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function netnsAvailable(): string | null {
  if (process.getuid?.() !== 0) return 'network namespaces need root (CI runs as root)';
  try { execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' }); } catch (e) { return `ip netns does not work here: ${(e as Error).message} (Debian package iproute2)`; }
  return null;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

export interface Machine { name: string; ns: string; address: string }

export class NetnsLab {
  readonly machines = new Map<string, Machine>();
  private readonly children = new Set<ChildProcess>();
  private constructor(readonly prefix: string, private readonly switchNs: string) {}

  /** Machines get 10.77.0.1, .2, … in the order given. */
  static create(names: string[]): NetnsLab {
    const prefix = `kf${randomBytes(2).toString('hex')}`;
    const sw = `${prefix}-switch`;
    ip('netns', 'add', sw);
    const lab = new NetnsLab(prefix, sw);
    try {
      ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', sw, 'link', 'set', 'br0', 'up');
      names.forEach((name, i) => {
        const ns = `${prefix}-${name}`;
        const address = `10.77.0.${i + 1}`;
        ip('netns', 'add', ns);
        lab.machines.set(name, { name, ns, address });
        const a = `${prefix}${i}a`;
        const b = `${prefix}${i}b`;
        ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
        ip('link', 'set', a, 'netns', ns);
        ip('link', 'set', b, 'netns', sw);
        ip('-n', sw, 'link', 'set', b, 'master', 'br0');
        ip('-n', sw, 'link', 'set', b, 'up');
        ip('-n', ns, 'link', 'set', a, 'name', 'eth0');
        ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
        ip('-n', ns, 'link', 'set', 'eth0', 'up');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        // Multicast (mDNS, 224.0.0.251) leaves through eth0: there is no default route here.
        ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
      });
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  machine(name: string): Machine {
    const m = this.machines.get(name);
    if (!m) throw new Error(`no machine ${name} in the lab`);
    return m;
  }

  /** Starts a long-running process inside a machine; destroy() ends it. */
  spawn(name: string, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.machine(name).ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Runs a command inside a machine to its end; resolves with its exit code and output. */
  run(name: string, cmd: string, args: string[], opts: SpawnOptions & { timeoutMs?: number } = {}): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = this.spawn(name, cmd, args, opts);
      let out = '';
      child.stdout?.on('data', (d) => (out += d));
      child.stderr?.on('data', (d) => (out += d));
      const t = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
      child.once('exit', (code) => { clearTimeout(t); resolve({ code, out }); });
    });
  }

  /**
   * Debian's avahi-daemon inside one machine, on a private D-Bus system bus (its socket in a temp
   * folder; avahi-browse finds it through DBUS_SYSTEM_BUS_ADDRESS), with a private /run/avahi-daemon
   * so it never meets another avahi-daemon on the host.
   */
  async startAvahi(name: string): Promise<{ env: NodeJS.ProcessEnv; stop(): Promise<void> }> {
    const dir = mkdtempSync(join(tmpdir(), 'kuroko-avahi-'));
    const bus = join(dir, 'system_bus_socket');
    writeFileSync(join(dir, 'bus.conf'), `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${bus}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_type="method_call"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>\n`);
    writeFileSync(join(dir, 'avahi.conf'), '[server]\nuse-ipv4=yes\nuse-ipv6=no\nallow-interfaces=eth0\nenable-dbus=yes\n[publish]\npublish-addresses=no\npublish-hinfo=no\npublish-workstation=no\n');
    const env = { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` };
    const dbus = this.spawn(name, 'dbus-daemon', ['--config-file', join(dir, 'bus.conf'), '--nofork', '--nopidfile'], { env });
    const avahiScript = `mkdir -p /run/avahi-daemon && mount -t tmpfs kuroko-avahi /run/avahi-daemon && exec avahi-daemon -f ${dir}/avahi.conf --no-drop-root --no-chroot --no-rlimits`;
    // Wait for the bus socket before avahi-daemon connects to it.
    for (let i = 0; i < 100; i++) {
      try { execFileSync('test', ['-S', bus]); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
    }
    const avahi = this.spawn(name, 'unshare', ['-m', 'sh', '-c', avahiScript], { env });
    let log = '';
    avahi.stdout?.on('data', (d) => (log += d));
    avahi.stderr?.on('data', (d) => (log += d));
    const end = Date.now() + 10_000;
    while (!/Server startup complete/.test(log)) {
      if (avahi.exitCode !== null || Date.now() > end) throw new Error(`avahi-daemon did not start in ${name}: ${log.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      env,
      stop: async () => {
        for (const c of [avahi, dbus]) if (c.exitCode === null) { c.kill('SIGTERM'); await new Promise((r) => c.once('exit', r)); }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }

  destroy(): void {
    for (const c of this.children) c.kill('SIGKILL');
    // Whatever those started (and anything else left inside a namespace) ends with it.
    for (const m of this.machines.values()) {
      let pids: string[] = [];
      try { pids = execFileSync('ip', ['netns', 'pids', m.ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean); } catch { /* namespace gone */ }
      for (const pid of pids) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already exited */ } }
    }
    for (const m of this.machines.values()) { try { ip('netns', 'del', m.ns); } catch { /* already gone */ } }
    try { ip('netns', 'del', this.switchNs); } catch { /* already gone */ }
  }
}
