/**
 * Every event the hub emits, with its arguments: the one list extensions (console, ensemble,
 * page, metrics, OSC, the demo's printer) listen to. `Hub extends EventEmitter<HubEvents>`, so an
 * emit or a listener with the wrong name or arguments does not compile.
 */
import type { EventEmitter } from 'node:events';
import type { CueAckT, NodeBirthT, NodeEventT, ShowStateT, TelemetryT, TranscriptLineT } from '../protocol/index.ts';
import type { NodeInfo } from './registry.ts';
import type { Report } from './playback.ts';
import type { CurateRequest } from './web/curator.ts';
import type { StageReport } from './ensemble/stage.ts';
import type { CouncilResult } from './ensemble/council.ts';
import type { TurnRecord } from './ensemble/improv.ts';

export interface HubReport { kind: string; message: string; data: Record<string, unknown> }
export interface PageLogin { ok: boolean; source: string; role?: string }

export interface HubEvents {
  /** A performed line, journaled. */
  line: [line: TranscriptLineT];
  birth: [node: string, birth: NodeBirthT];
  'node-state': [node: NodeInfo, previous: string];
  telemetry: [node: string, reading: TelemetryT];
  'node-event': [node: string, event: NodeEventT];
  'cue-ack': [node: string, ack: CueAckT];
  'show-state': [state: ShowStateT];
  /** A playback report (late or missing ack, skipped cue, ...). */
  report: [report: Report];
  /** A hub report (paused, restored, stall, ...), also on hub/event/{kind}. */
  'hub-report': [report: HubReport];
  'scene-finished': [scene: string];
  'hub-error': [where: 'mqtt', error: Error];
  /** A line waiting for the operator in curator mode. */
  curate: [request: CurateRequest];
  // Told by extensions, heard by the others:
  'ensemble-report': [report: StageReport];
  'improv-turn': [scene: string, turn: TurnRecord];
  council: [result: CouncilResult];
  'page-login': [login: PageLogin];
}

/** Listens to one hub event; returns what stops listening (an extension keeps these for its stop()). */
export function listen<K extends keyof HubEvents>(hub: EventEmitter<HubEvents>, event: K, fn: (...a: HubEvents[K]) => void): () => void {
  const listener = fn as Parameters<EventEmitter<HubEvents>['on']>[1];
  hub.on(event, listener);
  return () => { hub.off(event, listener); };
}
