/**
 * The node agent (`kuroko node agent`): the small, long-lived process on a robot's computer that
 * the fleet talks to. It is adopted once (node id, show, character, profile, credentials, board
 * firmware), then runs the node process from the release `current` names, and installs updates
 * with automatic rollback. Its HTTP API is in http-api.ts, its mDNS advertisement in advertise.ts.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import type { Logger } from 'pino';
import type { IClientOptions } from 'mqtt';
import { loadBundle, mqttSecurityOptions, securityFromBundle } from '../../protocol/credentials.ts';
import { parseProfile } from '../../firmware-config/profile.ts';
import { AGENT_TLS_FILES, type AdoptRequestT, type AgentInfoT, type AgentResultT, type AgentStateNameT } from '../../protocol/agent-api.ts';
import { AgentStateStore, sha256Hex, tokenMatches, writeFileAtomic } from './agent-state.ts';
import { Releases } from './releases.ts';
import { NodeProcess } from './node-process.ts';
import { NodeWatch } from './node-watch.ts';
import { Updater } from './updater.ts';
import type { ReleaseFormat } from './release-format.ts';
import { FileCredentialInstaller, type CredentialInstaller } from './credentials.ts';
import { ensureFirmware } from './firmware-step.ts';
import { step, StepError, type ProgressSink } from './progress.ts';
import { Pairing, type PairingOptions } from './pairing.ts';

export interface AgentOptions {
  /** The install root: releases/, current, agent/ (state, profile, credentials, release key). */
  dir: string;
  name: string;
  format: ReleaseFormat;
  healthTimeoutMs: number;
  /** Extra arguments for every `kuroko edge` the agent starts. */
  edgeArgs: string[];
  log: Logger;
  credentials?: CredentialInstaller;
  /** Lock-out tuning of the pairing code (tests shorten it). */
  pairing?: PairingOptions;
}

export class NodeAgent {
  readonly releases: Releases;
  readonly state: AgentStateStore;
  readonly node: NodeProcess;
  private watch: NodeWatch | null = null;
  private readonly updater: Updater;
  private busy: string | null = null;
  private phase: AgentStateNameT = 'unadopted';
  private readonly startedAt = Date.now();
  private readonly agentDir: string;
  private readonly credentials: CredentialInstaller;
  /** The one-time code an unadopted node asks for (pairing.ts). */
  readonly pairing: Pairing;
  /** The HTTPS certificate and key the fleet issued from the show CA (null: plain HTTP only). */
  private tls: { cert: string; key: string } | null = null;
  /** Called whenever something the mDNS record shows changes. */
  onChange: () => void = () => undefined;

  constructor(private readonly o: AgentOptions) {
    this.releases = new Releases(o.dir);
    this.agentDir = join(o.dir, 'agent');
    mkdirSync(this.agentDir, { recursive: true });
    this.state = new AgentStateStore(this.agentDir);
    this.pairing = new Pairing(this.agentDir, o.pairing);
    this.node = new NodeProcess(this.releases.currentLink, o.log);
    this.credentials = o.credentials ?? new FileCredentialInstaller(join(this.agentDir, 'credentials'));
    this.updater = new Updater({
      releases: this.releases, state: this.state, node: this.node, watch: () => this.watch, format: o.format,
      startNode: () => this.startNode(), trustedKey: () => this.trustedKey(), healthTimeoutMs: o.healthTimeoutMs, log: o.log,
    });
    this.node.on('exit', () => { if (this.phase === 'running') this.onChange(); });
  }

  get profileFile(): string { return join(this.agentDir, 'profile.yaml'); }
  private get keyFile(): string { return join(this.agentDir, 'release-key.pem'); }
  private get brokerFile(): string { return join(this.agentDir, 'broker-url'); }
  private get edgeArgsFile(): string { return join(this.agentDir, 'edge-args.json'); }
  trustedKey(): string | null { return existsSync(this.keyFile) ? readFileSync(this.keyFile, 'utf8') : null; }

  /** Trusts a release-signing key before adoption (`kuroko node install --trust`). */
  trust(pem: string): void {
    createPublicKey(pem);
    writeFileAtomic(this.keyFile, pem, 0o644);
  }

  /** Reads the agent's HTTPS certificate, if the credentials step installed one. */
  private loadTls(): void {
    const dir = join(this.agentDir, 'credentials');
    const cert = join(dir, AGENT_TLS_FILES.cert);
    const key = join(dir, AGENT_TLS_FILES.key);
    this.tls = this.adopted && existsSync(cert) && existsSync(key) ? { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } : null;
  }

  /** With a certificate, everything but GET /v1/info must come over HTTPS (http-api.ts). */
  tlsMaterial(): { cert: string; key: string } | null { return this.tls; }

  async start(): Promise<void> {
    this.loadTls();
    const recovered = this.updater.recover();
    if (recovered) this.o.log.warn(recovered);
    const a = this.state.get().adoption;
    if (a && this.releases.current()) {
      this.startWatch();
      this.phase = 'running';
      this.node.autoRestart = true;
      this.startNode();
    } else {
      this.phase = a ? 'stopped' : 'unadopted';
    }
    if (!a) this.pairing.ensureCode();
  }

  /** The pairing code while the node waits to be adopted (printed on the agent's console, never sent). */
  pairingCode(): string | null {
    return this.adopted ? null : this.pairing.code();
  }

  private startWatch(): void {
    const a = this.state.get().adoption!;
    // The agent watches with the node's own credentials (the broker URL the credentials step wrote).
    const broker = this.nodeBroker();
    this.watch = new NodeWatch({ show: a.show, nodeId: a.nodeId, broker, log: this.o.log, login: this.watchLogin(broker) });
    this.watch.start();
  }

  /**
   * On a secured stage the agent logs in as its node (same computer, same credentials file): the
   * node identity's ACL lets it read its own state and heartbeats and the show state (agentReads in
   * protocol/topics.ts), nothing more. A user name and password from a credentials folder are
   * already in the broker URL.
   */
  private watchLogin(broker: string): IClientOptions | undefined {
    // The file the node itself is started with (--credentials), so both always log in alike.
    const args = this.credentialArgs();
    const i = args.indexOf('--credentials');
    return i >= 0 && args[i + 1] ? mqttSecurityOptions(securityFromBundle(loadBundle(args[i + 1]!)), broker) as IClientOptions : undefined;
  }

  /** What the credentials step said `kuroko edge` needs (e.g. --credentials FILE). */
  private credentialArgs(): string[] {
    return existsSync(this.edgeArgsFile) ? JSON.parse(readFileSync(this.edgeArgsFile, 'utf8')) as string[] : [];
  }

  private nodeBroker(): string {
    return existsSync(this.brokerFile) ? readFileSync(this.brokerFile, 'utf8').trim() : this.state.get().adoption!.broker;
  }

  private startNode(): void {
    const a = this.state.get().adoption;
    if (!a) throw new Error('not adopted');
    const broker = this.nodeBroker();
    const release = this.o.format.describe(realpathSync(this.releases.currentLink));
    this.node.start({ show: a.show, nodeId: a.nodeId, character: a.character, broker, profile: this.profileFile, entry: release.entry, extraArgs: [...this.credentialArgs(), ...this.o.edgeArgs] });
  }

  info(): AgentInfoT {
    const s = this.state.get();
    const a = s.adoption;
    const lock = this.watch?.lock() ?? { locked: false, reason: 'not adopted' };
    return {
      v: 1, name: this.o.name, nodeId: a?.nodeId ?? null, show: a?.show ?? null, character: a?.character ?? null,
      state: this.phase, version: this.releases.current(), previous: s.previous, firmware: s.firmware,
      nodeState: this.phase === 'running' || this.phase === 'updating' || this.phase === 'rolling-back' ? this.watch?.nodeState?.value.state ?? null : null,
      lock, lastResult: s.lastResult, uptimeS: Math.round((Date.now() - this.startedAt) / 100) / 10, ts: Date.now(),
    };
  }

  /** Is this bearer token the fleet's token for this node? (Unadopted: no token exists.) */
  authorized(token: string | null): boolean {
    const a = this.state.get().adoption;
    return !!a && !!token && tokenMatches(token, a.tokenSha256);
  }

  get adopted(): boolean { return !!this.state.get().adoption; }

  /** Runs one long operation at a time; a second one is refused, never queued. */
  private async exclusive(what: AgentStateNameT, run: () => Promise<Omit<AgentResultT, 'done' | 'ms'>>): Promise<AgentResultT> {
    const t0 = Date.now();
    if (this.busy) return { done: true, ok: false, outcome: 'refused', version: this.releases.current(), message: `busy: ${this.busy} is in progress`, next: 'wait for it to finish, then try again', ms: 0 };
    const before = this.phase;
    this.busy = what;
    this.phase = what;
    this.onChange();
    try {
      const r = await run();
      this.phase = this.state.get().adoption && this.releases.current() ? 'running' : before;
      return { done: true, ...r, ms: Date.now() - t0 };
    } catch (e) {
      const err = e as Error;
      this.phase = this.node.running ? 'running' : this.state.get().adoption ? 'failed' : 'unadopted';
      if (err instanceof StepError) return { done: true, ok: false, outcome: err.outcome, version: this.releases.current(), message: err.message, next: err.next, ms: Date.now() - t0 };
      this.o.log.error({ err: err.stack }, `${what} failed: ${err.message}`);
      return { done: true, ok: false, outcome: 'failed', version: this.releases.current(), message: `${what} failed: ${err.message}`, next: 'look at the agent\'s log on the node (journalctl -u kuroko-agent)', ms: Date.now() - t0 };
    } finally {
      this.busy = null;
      this.onChange();
    }
  }

  adopt(req: AdoptRequestT, sink: ProgressSink): Promise<AgentResultT> {
    return this.exclusive('adopting', async () => {
      const current = this.releases.current();
      if (!current) throw new StepError('no release is installed on this node', 'install one first: kuroko node install --bundle FILE (see the robot builder\'s guide)', 'refused');
      const loaded = await step(sink, 'profile', `checking the profile for ${req.nodeId}…`, () => {
        const l = parseProfile(`${req.nodeId}.yaml`, req.profile);
        if (l.profile.node && l.profile.node !== req.nodeId) throw new StepError(`the profile belongs to node "${l.profile.node}", not "${req.nodeId}"`, 'give this node the profile written for it', 'refused');
        return l;
      }, (l) => `profile valid (${l.profile.platform}, ${(l.profile.servos ?? []).length} servos, ${(l.profile.boards ?? []).length} boards)`);
      // Flashing needs the board's port, and a re-adoption changes what the node runs: stop it.
      await this.node.stop();
      await this.watch?.stop();
      this.watch = null;
      writeFileAtomic(this.profileFile, req.profile, 0o644);
      if (req.releaseKey) {
        await step(sink, 'trust', 'installing the release-signing key…', () => this.trust(req.releaseKey!), () => 'release bundles must now be signed with the fleet\'s key');
      }
      const creds = await step(sink, 'credentials', 'installing the node\'s credentials…', () => this.credentials.install(req.nodeId, req.broker, req.credentials), (c) => c.message);
      writeFileAtomic(this.brokerFile, creds.broker ?? req.broker, 0o600);
      writeFileAtomic(this.edgeArgsFile, JSON.stringify(creds.edgeArgs ?? []), 0o600);
      const release = this.o.format.describe(this.releases.pathOf(current));
      const firmware = await ensureFirmware(loaded.profile, release.firmware, sink);
      this.state.update({
        adoption: { nodeId: req.nodeId, show: req.show, character: req.character, broker: req.broker, tokenSha256: sha256Hex(req.token), adoptedAt: Date.now() },
        committed: this.state.get().committed ?? current, firmware, lastResult: `adopted as ${req.nodeId}`,
      });
      // Adopted: the code is used up; from now on only the fleet's token adopts again.
      this.pairing.consume();
      this.loadTls();
      this.startWatch();
      this.node.autoRestart = false;
      const t0 = Date.now();
      sink({ step: 'start', status: 'start', message: `starting node ${req.nodeId} (${current}); waiting for ready and heartbeats…` });
      this.startNode();
      let exited: string | null = null;
      this.node.once('exit', (code, signal, tail) => { exited = `the node process exited (${code ?? signal}): ${NodeProcess.why(tail)}`; });
      const v = await this.watch!.waitHealthy(this.node.spawnedAt, this.o.healthTimeoutMs, () => exited);
      this.node.autoRestart = true;
      sink({ step: 'start', status: v.ok ? 'ok' : 'fail', message: v.reason, ms: Date.now() - t0 });
      if (!exited && !this.node.running) this.startNode();
      if (!v.ok) {
        return { ok: false, outcome: 'failed', version: current, message: `adopted as ${req.nodeId}, but the node is not in the show: ${v.reason}`, next: `is the hub running and reachable at ${req.broker} from the node? The agent keeps restarting the node; run kuroko fleet list to watch it` };
      }
      return { ok: true, outcome: 'adopted', version: current, message: `${this.o.name} is node ${req.nodeId}${req.character ? ` (${req.character})` : ''}, ready on ${current}` };
    });
  }

  /** Installs a bundle; `healthTimeoutMs` overrides the agent's health timeout for this update. */
  update(file: string, force: boolean, sink: ProgressSink, healthTimeoutMs?: number): Promise<AgentResultT> {
    return this.exclusive('updating', async () => {
      if (!this.adopted) throw new StepError('this node is not adopted', 'adopt it first: kuroko fleet adopt', 'refused');
      return this.updater.update(file, force, sink, healthTimeoutMs);
    });
  }

  rollback(force: boolean, sink: ProgressSink): Promise<AgentResultT> {
    return this.exclusive('rolling-back', async () => this.updater.rollback(force, sink));
  }

  /** Forgets the adoption (on the node only: `kuroko node agent --reset`). */
  static reset(dir: string): void {
    const agentDir = join(dir, 'agent');
    // The pairing code goes too: the next start makes a fresh one (and no lock-out is carried over).
    for (const f of ['state.json', 'profile.yaml', 'broker-url', 'edge-args.json', 'pairing-code', 'pairing-lock.json']) rmSync(join(agentDir, f), { force: true });
    rmSync(join(agentDir, 'credentials'), { recursive: true, force: true });
    writeFileSync(join(agentDir, '.reset'), `${new Date().toISOString()}\n`);
  }

  async stop(): Promise<void> {
    await this.node.stop();
    await this.watch?.stop();
  }
}
