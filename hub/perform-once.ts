/**
 * Performs a show once, scene by scene, as `kuroko demo` and `kuroko hub --once` do: wait for every
 * cast node to come up, arm, start each scene and wait for it to finish. Then a summary: a run
 * passes only when every scene finished, no cue was rejected, failed or skipped, and at least one
 * line was performed — so a script (or CI) running `--once` learns that something went wrong.
 */
import type { Hub } from './hub.ts';
import type { Report } from './playback.ts';

export interface OnceResult {
  completed: boolean;
  lines: number;
  /** Cues a node refused, that failed, or were skipped (node not connected or lost). */
  rejected: Report[];
  /** Reports that do not fail the run (late or missing acks on a busy machine). */
  warnings: Report[];
  /** Why the run did not pass, in words; empty when it passed. */
  failures: string[];
}

const FAILING: Report['kind'][] = ['cue-rejected', 'cue-failed', 'cue-skipped'];

export interface PerformOnceOptions {
  out: (s: string) => void;
  clock: () => string;
  interrupted: () => boolean;
  upTimeoutMs?: number;
  /** The nodes are this process's children (kuroko demo), not robots someone else starts: changes the hint. */
  nodesStartedHere?: boolean;
}

export async function performShowOnce(hub: Hub, o: PerformOnceOptions): Promise<OnceResult> {
  const { out, clock } = o;
  const show = hub.o.show;
  const reports: Report[] = [];
  const onReport = (r: Report) => reports.push(r);
  hub.on('report', onReport);
  // Lines performed in this run (a hub restarted on an earlier run's journal knows that run's lines too).
  let lines = 0;
  const onLine = () => { lines++; };
  hub.on('line', onLine);
  try {
    // Wait for every node to come up and hear the hub (a node still in init refuses to arm).
    const upMs = o.upTimeoutMs ?? 30000;
    const upBy = Date.now() + upMs;
    const up = (node: string) => hub.registry.isOnline(node) && hub.registry.get(node)?.state !== 'init';
    while (show.cast.some((c) => !up(c.node))) {
      if (Date.now() > upBy) {
        // Not an exception: the run ends with the same summary (and exit 1) as any other failure.
        const missing = [...new Set(show.cast.filter((c) => !up(c.node)).map((c) => c.node))];
        out(`${clock()}  ! nodes did not come up: ${missing.join(', ')}`);
        const them = missing.length === 1 ? 'it' : 'them';
        const hint = o.nodesStartedHere ? `see ${them === 'it' ? 'its' : 'their'} messages above, or wait longer with --wait-nodes S` : `start ${them}: kuroko edge --node ${missing[0]} …, or wait longer with --wait-nodes S`;
        return summarise(false, lines, reports, [`node${missing.length === 1 ? '' : 's'} ${missing.join(', ')} did not come up within ${upMs / 1000} s (${hint})`]);
      }
      if (o.interrupted()) throw new Error('interrupted');
      await sleep(50);
    }
    let armed = await hub.console.run('arm');
    // On a loaded machine a node can take longer than arm's wait to answer: ask again.
    for (let i = 0; i < 3 && !armed.ok && !o.interrupted(); i++) { await sleep(500); armed = await hub.console.run('arm'); }
    out(`${clock()}  > arm: ${armed.message}`);
    if (!armed.ok) return summarise(false, lines, reports, [`could not arm the nodes: ${armed.message}`]);

    let completed = true;
    for (const scene of show.scenes) {
      out(`${clock()}  == scene ${scene.id}${scene.title ? `: ${scene.title}` : ''}`);
      const finished = new Promise<boolean>((resolve) => {
        const onFinished = (id: string) => { if (id === scene.id) { cleanup(); resolve(true); } };
        const onState = () => { if (hub.estopActive || hub.playback.snapshot().status === 'stopped') { cleanup(); resolve(false); } };
        const poll = setInterval(() => { if (o.interrupted()) { cleanup(); resolve(false); } }, 100);
        const cleanup = () => { hub.off('scene-finished', onFinished); hub.off('show-state', onState); clearInterval(poll); };
        hub.on('scene-finished', onFinished);
        hub.on('show-state', onState);
      });
      const r = await hub.console.run('scene/start', { scene: scene.id });
      if (!r.ok) { out(`${clock()}  ! ${r.message}`); completed = false; break; }
      if (!(await finished)) { completed = false; out(`${clock()}  ! the show was stopped${hub.estopActive ? ' by an e-stop' : ''}`); break; }
    }
    return summarise(completed, lines, reports);
  } finally {
    hub.off('report', onReport);
    hub.off('line', onLine);
  }
}

/** `before`: why the run stopped before any scene started (then "not every scene finished" goes without saying). */
export function summarise(completed: boolean, lines: number, reports: Report[], before: string[] = []): OnceResult {
  const rejected = reports.filter((r) => FAILING.includes(r.kind));
  const warnings = reports.filter((r) => !FAILING.includes(r.kind));
  const failures: string[] = [...before];
  if (!completed && !before.length) failures.push('not every scene finished');
  if (rejected.length) failures.push(`${rejected.length} cue${rejected.length === 1 ? ' was' : 's were'} rejected, failed or skipped`);
  if (lines === 0) failures.push('no line was performed');
  return { completed, lines, rejected, warnings, failures };
}

/** The summary lines a person reads at the end of a --once run. */
export function describeOnce(r: OnceResult, showFile?: string): string[] {
  const lines = [r.failures.length ? `FAILED: ${r.failures.join('; ')} (${r.lines} lines performed).` : `PASSED: every scene finished, ${r.lines} lines performed, no cue rejected.`];
  for (const x of r.rejected.slice(0, 20)) lines.push(`  ${x.kind.padEnd(12)} ${x.scene}/${x.cue}${x.node ? ` on ${x.node}` : ''}: ${x.message}`);
  if (r.rejected.length > 20) lines.push(`  … and ${r.rejected.length - 20} more (see the journal)`);
  if (r.warnings.length) lines.push(`  (${r.warnings.length} timing warning${r.warnings.length === 1 ? '' : 's'}: late or missing acks; see the journal)`);
  if (r.rejected.some((x) => x.kind === 'cue-rejected') && showFile) lines.push(`  Check the cues against the robots' hardware before the show: kuroko validate ${showFile} --profiles DIR`);
  return lines;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
