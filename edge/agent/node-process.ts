/**
 * The node process (`kuroko edge`) as the agent's child: started from the release `current`
 * points at, restarted after a crash (like systemd's Restart=always) while it is the committed
 * release, and stopped on request with SIGTERM, then SIGKILL after a grace time. During an update
 * the agent watches it without restarting it: a crash then means "roll back", not "try again".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { realpathSync } from 'node:fs';
import type { Logger } from 'pino';

export interface NodeLaunch {
  show: string;
  nodeId: string;
  character?: string;
  broker: string;
  profile: string;
  /** The release's entry script, relative to the release folder. */
  entry: string;
  /** Extra arguments for `kuroko edge` (e.g. --no-model, --log-level). */
  extraArgs: string[];
}

export interface NodeProcessEvents {
  exit: [code: number | null, signal: NodeJS.Signals | null, tail: string];
  spawn: [pid: number, release: string];
}

export class NodeProcess extends EventEmitter<NodeProcessEvents> {
  private child: ChildProcess | null = null;
  private tail: string[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  /** While true, a crash is restarted after a back-off; false during an update's health check. */
  autoRestart = false;
  private crashes = 0;
  spawnedAt = 0;

  constructor(private readonly currentLink: string, private readonly log: Logger, private readonly graceMs = 4000) {
    super();
  }

  get running(): boolean { return !!this.child && this.child.exitCode === null && this.child.signalCode === null; }
  get pid(): number | undefined { return this.child?.pid; }
  /** The last lines the node wrote to stderr: the reason a broken release gives. */
  lastOutput(): string { return this.tail.join('\n'); }

  /** The one line of the node's last words that says why it stopped (an error, else the last real line). */
  static why(tail: string): string {
    const lines = tail.split('\n').map((l) => l.trim()).filter((l) => l && l !== '}' && l !== '^' && !/^at /.test(l) && !/^Node\.js v\d/.test(l));
    const fromJson = (l: string) => { try { const j = JSON.parse(l) as { level?: number; msg?: string }; return (j.level ?? 0) >= 50 ? j.msg ?? null : null; } catch { return null; } };
    for (let i = lines.length - 1; i >= 0; i--) {
      const l = lines[i]!;
      const msg = l.startsWith('{') ? fromJson(l) : /(^|\s)(\w*Error\b|Error \[|kuroko \w+:)/.test(l) ? l : null;
      if (msg) return msg.slice(0, 300);
    }
    return (lines.at(-1) ?? '').slice(0, 300);
  }

  start(launch: NodeLaunch): void {
    if (this.running) throw new Error('the node process is already running');
    if (this.restartTimer) { clearTimeout(this.restartTimer); this.restartTimer = null; }
    const release = realpathSync(this.currentLink);
    const entry = join(release, launch.entry);
    const args = [entry, 'edge', '--show', launch.show, '--node', launch.nodeId, '--profile', launch.profile, '--broker', launch.broker,
      ...(launch.character ? ['--character', launch.character] : []), ...launch.extraArgs];
    this.tail = [];
    this.spawnedAt = Date.now();
    // An IPC channel ties the node to its agent: if the agent dies, the node goes safe and leaves
    // (kuroko edge exits on 'disconnect'), and the restarted agent starts it again — never two.
    const child = spawn(process.execPath, args, { cwd: release, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...process.env, KUROKO_LOG_FORMAT: process.env.KUROKO_LOG_FORMAT ?? 'json' } });
    this.child = child;
    child.stderr!.on('data', (d: Buffer) => {
      // The node's log goes on to the agent's (one journal on the robot: journalctl -u kuroko-agent).
      process.stderr.write(d);
      for (const line of d.toString().split('\n')) if (line.trim()) this.tail.push(line.slice(0, 400));
      if (this.tail.length > 20) this.tail.splice(0, this.tail.length - 20);
    });
    child.once('spawn', () => this.emit('spawn', child.pid!, release));
    child.once('error', (e) => this.log.error({ err: e.message }, `node process could not start: ${e.message}`));
    child.once('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      this.emit('exit', code, signal, this.lastOutput());
      if (this.autoRestart) {
        // Back off 1 s, 2 s, 4 s … up to 30 s, so a crash loop does not eat the node's CPU.
        const delay = Math.min(30_000, 1000 * 2 ** Math.min(this.crashes++, 5));
        this.log.warn({ code, signal, delay }, `node process exited (${code ?? signal}); restarting in ${delay} ms`);
        this.restartTimer = setTimeout(() => { this.restartTimer = null; if (!this.running && this.autoRestart) this.start(launch); }, delay);
      }
    });
    this.log.info({ release, pid: child.pid }, `node process started from ${release}`);
  }

  /** Marks the running process healthy: crash back-off starts again from 1 s. */
  healthy(): void { this.crashes = 0; }

  async stop(): Promise<void> {
    this.autoRestart = false;
    if (this.restartTimer) { clearTimeout(this.restartTimer); this.restartTimer = null; }
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), this.graceMs);
    await exited;
    clearTimeout(t);
  }
}
