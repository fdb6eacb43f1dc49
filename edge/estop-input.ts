/**
 * Turns the e-stop messages a node hears into gate calls. Every e-stop is obeyed whoever sends it
 * and however it arrives (live or retained); a release is only a request, which the gate's latch
 * accepts when it is live and newer than every e-stop seen.
 */
import { join } from 'node:path';
import type { PayloadOf } from '../protocol/index.ts';
import type { SafetyGate } from './safety.ts';
import type { Stamp } from './estop-latch.ts';

/** The show-wide `estop` topic. `retained`: the broker replayed it from its store (packet.retain). */
export function obeyEstopMessage(gate: SafetyGate, m: PayloadOf<'estop'>, retained: boolean): void {
  const stamp: Stamp | undefined = m.stamp;
  if (m.active) gate.estop(retained ? 'retained' : 'hub', m.reason ?? `by ${m.source}`, stamp);
  else gate.release({ retained, stamp, source: m.source });
}

/** The console's own e-stop topic, obeyed directly so it works with the hub down. */
export function obeyConsoleEstop(gate: SafetyGate, m: PayloadOf<'consoleEstop'>): void {
  gate.estop('console', m.reason ?? 'console e-stop');
}

/** The node's var dir: --var-dir, else $KUROKO_VAR_DIR, else ./var. */
export function defaultVarDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.KUROKO_VAR_DIR || join(process.cwd(), 'var');
}

/** Where a node keeps its e-stop latch, under its var dir. */
export function defaultLatchFile(show: string, node: string, varDir = defaultVarDir()): string {
  return join(varDir, 'edge', show, node, 'estop-latch.json');
}
