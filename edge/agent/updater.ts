/**
 * Update and rollback on one node, as one transaction each (Mender's Download → Install →
 * Reboot → Commit, or Rollback): verify the bundle, unpack it beside the running release,
 * switch `current` atomically, restart the node process, and commit only when the new process
 * reaches `ready` and heartbeats within the health timeout. Anything else — the process dies,
 * never says ready, never heartbeats — switches back by itself and says why.
 */
import type { Logger } from 'pino';
import { Releases } from './releases.ts';
import type { AgentStateStore } from './agent-state.ts';
import { NodeProcess } from './node-process.ts';
import type { NodeWatch } from './node-watch.ts';
import type { ReleaseFormat } from './release-format.ts';
import { step, StepError, type ProgressSink } from './progress.ts';
import type { AgentResultT } from '../../protocol/agent-api.ts';

export interface UpdaterDeps {
  releases: Releases;
  state: AgentStateStore;
  node: NodeProcess;
  watch: () => NodeWatch | null;
  format: ReleaseFormat;
  /** Starts the node process from `current` (the launch settings come from the adoption). */
  startNode: () => void;
  trustedKey: () => string | null;
  healthTimeoutMs: number;
  log: Logger;
}

type Outcome = Omit<AgentResultT, 'done' | 'ms'>;

export class Updater {
  constructor(private readonly d: UpdaterDeps) {}

  private lockOrRefuse(force: boolean, sink: ProgressSink): void {
    const watch = this.d.watch();
    const lock = watch?.lock(force) ?? { locked: false, reason: 'not adopted: no show to lock' };
    if (lock.locked) {
      sink({ step: 'lock', status: 'fail', message: `refused: ${lock.reason}` });
      throw new StepError(`refused: ${lock.reason}`, 'update after the show (disarm, or wait for the scene to end); --force passes a running scene only for an unarmed node', 'refused');
    }
    sink({ step: 'lock', status: 'ok', message: lock.reason });
  }

  /** Installs a bundle file and commits it, or rolls back to what ran before. */
  async update(file: string, force: boolean, sink: ProgressSink, healthTimeoutMs = this.d.healthTimeoutMs): Promise<Outcome> {
    const { releases, format } = this.d;
    const { version } = await step(sink, 'verify', 'checking the signature…', () => format.verify(file, this.d.trustedKey()).catch((e: Error) => {
      throw new StepError(`the bundle did not verify: ${e.message}`, 'build and sign the bundle again with kuroko release; nothing on the node changed');
    }), (r) => `bundle ${r.version}: signed by a key this node trusts`);
    const from = releases.current();
    if (from === version && this.d.state.get().committed === version) {
      sink({ step: 'install', status: 'skip', message: `release ${version} is already committed here` });
      return { ok: true, outcome: 'unchanged', version, message: `already on ${version}` };
    }
    this.lockOrRefuse(force, sink);
    await step(sink, 'unpack', `checking every file's sha256 and unpacking to releases/${version}…`, async () => {
      const staging = releases.staging(version);
      await format.unpack(file, staging, this.d.trustedKey());
      format.describe(staging);
      releases.install(version, staging);
    }, () => `every file matches the signed manifest; unpacked to releases/${version}`);
    // The lock may have closed while the bundle unpacked (a scene started): check again.
    this.lockOrRefuse(force, sink);
    return this.switchAndCheck(from, version, sink, 'update', healthTimeoutMs);
  }

  /** Goes back to the previous release (as an update would: switch, restart, health check). */
  async rollback(force: boolean, sink: ProgressSink): Promise<Outcome> {
    const { previous } = this.d.state.get();
    const from = this.d.releases.current();
    if (!previous || !this.d.releases.has(previous)) {
      throw new StepError(`no previous release to go back to (running ${from ?? 'nothing'})`, 'push the release you want with kuroko fleet update --release FILE', 'refused');
    }
    this.lockOrRefuse(force, sink);
    return this.switchAndCheck(from, previous, sink, 'rollback', this.d.healthTimeoutMs);
  }

  private async switchAndCheck(from: string | null, to: string, sink: ProgressSink, kind: 'update' | 'rollback', healthTimeoutMs: number): Promise<Outcome> {
    const { releases, state } = this.d;
    state.update({ pending: { from, to, startedAt: Date.now() } });
    await step(sink, 'switch', `switching current → ${to}…`, () => releases.switchTo(to), () => `current → releases/${to} (was ${from ?? 'nothing'})`);
    const verdict = await this.restartAndWait(to, sink, healthTimeoutMs);
    if (verdict.ok) {
      state.update({ committed: to, previous: from, pending: null, lastResult: `${kind} to ${to} committed` });
      this.d.node.autoRestart = true;
      this.d.node.healthy();
      const pruned = releases.prune([to, from]);
      sink({ step: 'commit', status: 'ok', message: `committed ${to}${pruned.length ? ` (removed old releases ${pruned.join(', ')})` : ''}` });
      return { ok: true, outcome: 'committed', version: to, message: `${to} is running and healthy (${verdict.reason})` };
    }
    // Not healthy: go back by ourselves.
    if (!from) {
      state.update({ pending: null, lastResult: `${kind} to ${to} failed: ${verdict.reason}` });
      throw new StepError(`${to} did not become healthy (${verdict.reason}) and there is no earlier release to go back to`, 'look at the node\'s log (journalctl -u kuroko-agent) and push a working release');
    }
    const t0 = Date.now();
    sink({ step: 'rollback', status: 'start', message: `${to} failed (${verdict.reason}): rolling back to ${from}…` });
    releases.switchTo(from);
    // Going back gets the agent's full timeout: the old release is known to work.
    const back = await this.restartAndWait(from, sink, Math.max(healthTimeoutMs, this.d.healthTimeoutMs));
    state.update({ pending: null, committed: from, lastResult: `${kind} to ${to} rolled back: ${verdict.reason}` });
    this.d.node.autoRestart = true;
    sink({ step: 'rollback', status: back.ok ? 'ok' : 'fail', message: back.ok ? `back on ${from}, healthy` : `back on ${from}, but it is not healthy either: ${back.reason}`, ms: Date.now() - t0 });
    return {
      ok: false, outcome: 'rolled-back', version: from,
      message: `${to} was rolled back to ${from}: ${verdict.reason}`,
      next: 'fix the release (the reason above is from the node) and push it again; the node runs the previous release meanwhile',
    };
  }

  private async restartAndWait(version: string, sink: ProgressSink, healthTimeoutMs: number): Promise<{ ok: boolean; reason: string }> {
    const { node } = this.d;
    await step(sink, 'restart', `restarting the node process on ${version}…`, async () => {
      await node.stop();
      node.autoRestart = false;
      this.d.startNode();
    }, () => `node process started on ${version}`);
    let exited: string | null = null;
    const onExit = (code: number | null, signal: NodeJS.Signals | null, tail: string) => {
      const why = NodeProcess.why(tail);
      exited = `the node process exited (${code ?? signal})${why ? `: ${why}` : ''}`;
    };
    node.once('exit', onExit);
    const t0 = Date.now();
    sink({ step: 'health', status: 'start', message: `waiting up to ${Math.round(healthTimeoutMs / 1000)} s for ready and heartbeats…` });
    const watch = this.d.watch();
    const verdict = watch
      ? await watch.waitHealthy(node.spawnedAt, healthTimeoutMs, () => exited)
      : { ok: false, reason: 'not adopted: no broker to watch the node on' };
    node.off('exit', onExit);
    sink({ step: 'health', status: verdict.ok ? 'ok' : 'fail', message: verdict.reason, ms: Date.now() - t0 });
    return verdict;
  }

  /** At agent start: an update that was switched but never committed is undone. */
  recover(): string | null {
    const p = this.d.state.get().pending;
    if (!p) return null;
    const { releases, state } = this.d;
    if (p.from && releases.has(p.from)) {
      releases.switchTo(p.from);
      state.update({ pending: null, committed: p.from, lastResult: `update to ${p.to} was interrupted before its commit: rolled back to ${p.from}` });
      return `update to ${p.to} was interrupted before its commit: rolled back to ${p.from}`;
    }
    state.update({ pending: null });
    return null;
  }
}
