/**
 * The safety gate's events, typed: one map from each event name to its arguments, and one map
 * from each safety event kind to its data, so a listener cannot misspell a name or misread a field.
 */
import type { SensorReading } from './hardware/types.ts';
import type { EstopSource, Stamp } from './estop-latch.ts';

export type SafetyState = 'init' | 'ready' | 'armed' | 'estopped' | 'fault';

/** Why every lease was revoked. A "cut" (category 0) also ends every running cue. */
export type RevokeCause = 'disarm' | 'watchdog' | 'estop' | 'fault' | 'overheat' | 'close';
export const CUT_CAUSES: ReadonlySet<RevokeCause> = new Set(['estop', 'fault', 'overheat', 'close']);

/** The data of each safety event kind (published as node/{node}/event/{kind}). */
export interface SafetyEventData {
  watchdog: { watchdogMs: number; action: string };
  estop: { source: EstopSource; reason: string; stamp?: Stamp; persisted: boolean };
  'estop-button': { pressed: boolean; note?: string };
  release: { source: string; stamp?: Stamp };
  'release-refused': { reason: string; retained: boolean; stamp?: Stamp };
  'latch-fault': { error: string };
  overheat: { sensor: string; value: number; limit: number };
  cooled: { sensor: string; value: number };
  obstacle: { sensor: string; cm: number; stopBelowCm: number };
  clear: { sensor: string; cm: number };
  fault: { reason: string };
  recovered: Record<string, never>;
  limit: { servo?: string; motor?: string; asked: number; applied: number; rule: 'range' | 'maxDuty' | 'speed' };
  revoked: { cause: RevokeCause; reason: string; leases: number };
}
export type SafetyEventKind = keyof SafetyEventData;
export type SafetyEvent = { [K in SafetyEventKind]: { kind: K; data: SafetyEventData[K] } }[SafetyEventKind];

/** Hardware reports the gate passes on for the node to publish (it never acts on them itself). */
export interface HardwareReports {
  'board-failsafe': Record<string, unknown>;
  motion: Record<string, unknown>;
}

/** Every event the gate emits, with its arguments. */
export interface GateEvents {
  /** The node's safety state changed. */
  state: [state: SafetyState, reason: string];
  /** Something worth publishing happened. */
  event: [event: SafetyEvent];
  /** Every lease lent so far is dead (their holders should drop what they were doing). */
  revoked: [cause: RevokeCause, reason: string];
  /** Motors were stopped by the gate (an obstacle): motor timers are moot. */
  'motors-stopped': [reason: string];
  /** A sensor reading, after the gate has acted on it (for telemetry). */
  reading: [reading: SensorReading];
  /** A hardware report to publish. */
  report: [kind: keyof HardwareReports, data: Record<string, unknown>];
}
