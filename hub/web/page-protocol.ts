/**
 * The page protocol: every message between the stage manager's page and the hub over /ws, as
 * TypeBox schemas (the same library as the MQTT contract in protocol/). The server validates what
 * the page sends with Ajv (page-protocol-check.ts); the page imports these types only, so both
 * sides are compiled against one definition.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TranscriptLine } from '../../protocol/schemas.ts';

const strict = { additionalProperties: false } as const;
const Ref = Type.Optional(Type.Union([Type.String({ maxLength: 40 }), Type.Integer()]));

export const PAGE_COMMANDS = ['scene/start', 'go', 'stop', 'arm', 'disarm', 'estop', 'release', 'next-speaker'] as const;
export const Role = Type.Union([Type.Literal('operator'), Type.Literal('viewer')]);
export type RoleT = Static<typeof Role>;

// ---- page → hub --------------------------------------------------------------------------------
export const CommandMessage = Type.Object({
  type: Type.Literal('command'),
  command: Type.Union(PAGE_COMMANDS.map((c) => Type.Literal(c))),
  args: Type.Optional(Type.Object({
    scene: Type.Optional(Type.String({ maxLength: 63 })),
    character: Type.Optional(Type.String({ maxLength: 63 })),
    reason: Type.Optional(Type.String({ maxLength: 200 })),
  }, strict)),
  ref: Ref,
}, strict);
export const CurateMessage = Type.Object({
  type: Type.Literal('curate'),
  id: Type.String({ maxLength: 40 }),
  decision: Type.Union([Type.Literal('approved'), Type.Literal('vetoed'), Type.Literal('regenerate')]),
  ref: Ref,
}, strict);
export const SettingsMessage = Type.Object({
  type: Type.Literal('settings'),
  showMode: Type.Optional(Type.Boolean()),
  curator: Type.Optional(Type.Boolean()),
  ref: Ref,
}, strict);
export const ClientMessage = Type.Union([CommandMessage, CurateMessage, SettingsMessage]);
export type ClientMessageT = Static<typeof ClientMessage>;
export type CommandMessageT = Static<typeof CommandMessage>;

// ---- hub → page --------------------------------------------------------------------------------
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const CueView = Type.Object({
  id: Type.String(), name: Nullable(Type.String()), kind: Type.String(), character: Nullable(Type.String()),
  text: Nullable(Type.String()), emotion: Nullable(Type.String()), continue: Type.String(), notes: Nullable(Type.String()),
});
export const ShowInfo = Type.Object({
  id: Type.String(),
  title: Type.String(),
  cast: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), node: Type.String() })),
  scenes: Type.Array(Type.Object({ id: Type.String(), title: Nullable(Type.String()), cues: Type.Array(CueView) })),
});
export const NodeView = Type.Object({
  id: Type.String(), state: Type.String(), reason: Nullable(Type.String()), rssBytes: Nullable(Type.Number()),
  hardware: Nullable(Type.String()), bdSeq: Nullable(Type.Number()),
});
export const ShowView = Type.Object({
  v: Type.Literal(1), status: Type.String(), scene: Nullable(Type.String()), standby: Nullable(Type.String()),
  running: Type.Array(Type.String()), armed: Type.Boolean(), estop: Type.Boolean(), ts: Type.Number(),
  standbyNotes: Nullable(Type.String()), nextScene: Nullable(Type.String()),
});
export const SettingsView = Type.Object({ showMode: Type.Boolean(), curator: Type.Boolean(), nextSpeaker: Nullable(Type.String()) });
export const LogEntry = Type.Object({
  t: Type.Number(), level: Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]), source: Type.String(), text: Type.String(),
});
export const CurateItem = Type.Object({
  id: Type.String(), character: Type.String(), text: Type.String(), emotion: Type.Optional(Type.String()),
  deadlineMs: Type.Number(), expiresAt: Type.Number(), remainingMs: Type.Number(),
});
const TelemetryItem = Type.Object({ node: Type.String(), sensor: Type.String(), value: Type.Number(), unit: Type.String() });
export const Snapshot = Type.Object({
  nodes: Type.Array(NodeView),
  show: ShowView,
  transcript: Type.Array(TranscriptLine),
  speaking: Type.Array(Type.Object({ line: TranscriptLine, remainingMs: Type.Number() })),
  log: Type.Array(LogEntry),
  telemetry: Type.Record(Type.String(), Type.Record(Type.String(), Type.Object({ value: Type.Number(), unit: Type.String() }))),
  latency: Type.Record(Type.String(), Type.Number()),
  curate: Type.Array(CurateItem),
  settings: SettingsView,
});

export const ServerMessage = Type.Union([
  Type.Object({ type: Type.Literal('hello'), role: Role, show: ShowInfo, state: Snapshot }),
  Type.Object({ type: Type.Literal('refused'), message: Type.String() }),
  Type.Object({ type: Type.Literal('node'), node: NodeView }),
  Type.Object({ type: Type.Literal('show'), show: ShowView }),
  Type.Object({ type: Type.Literal('line'), line: TranscriptLine }),
  Type.Object({ type: Type.Literal('telemetry'), items: Type.Array(TelemetryItem) }),
  Type.Object({ type: Type.Literal('latency'), node: Type.String(), ms: Type.Number() }),
  Type.Object({ type: Type.Literal('log'), entry: LogEntry }),
  Type.Object({ type: Type.Literal('settings'), settings: SettingsView }),
  Type.Object({ type: Type.Literal('curate'), item: CurateItem }),
  Type.Object({ type: Type.Literal('curate-done'), id: Type.String(), decision: Type.String(), by: Type.String() }),
  Type.Object({ type: Type.Literal('reply'), ref: Nullable(Type.Union([Type.String(), Type.Number()])), what: Type.Optional(Type.String()), ok: Type.Boolean(), message: Type.String() }),
]);
export type ServerMessageT = Static<typeof ServerMessage>;
export type ServerMessageOf<K extends ServerMessageT['type']> = Extract<ServerMessageT, { type: K }>;
export type ShowInfoT = Static<typeof ShowInfo>;
export type NodeViewT = Static<typeof NodeView>;
export type ShowViewT = Static<typeof ShowView>;
export type SettingsViewT = Static<typeof SettingsView>;
export type LogEntryT = Static<typeof LogEntry>;
export type CurateItemT = Static<typeof CurateItem>;
export type SnapshotT = Static<typeof Snapshot>;
export type ReplyT = ServerMessageOf<'reply'>;
