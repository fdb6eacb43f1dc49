/**
 * Payload schemas of the wire contract. One source gives both the runtime validation
 * (JSON Schema, checked with Ajv) and the TypeScript types (TypeBox's Static).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ID_PATTERN } from './ids.ts';

const V = Type.Literal(1, { description: 'protocol version' });
const Ts = Type.Number({ description: 'wall-clock time of sending, ms since the Unix epoch' });
export const Id = Type.String({ pattern: ID_PATTERN });
/** Cue ids are lower-case ULIDs: unique, and sortable by creation time. */
export const CueId = Type.String({ pattern: '^[0-9a-z]{26}$', description: 'lower-case ULID' });
const ShowTime = Type.Number({ description: 'show-clock time in ms (the hub monotonic clock since the show epoch)' });

function obj<T extends Record<string, TSchema>>(props: T, description: string) {
  return Type.Object(props, { additionalProperties: false, description });
}

// ---- hub ---------------------------------------------------------------------
export const HubState = obj({
  v: V,
  status: Type.Union([Type.Literal('online'), Type.Literal('offline')]),
  epoch: Type.String({ description: 'identifies one run of the hub; a new epoch resets the show clock' }),
  show: Id,
  version: Type.String(),
  ts: Ts,
}, 'Retained. The hub Last Will sets status offline.');

/** Appended by protocol/signing.ts to hub control messages on a secured stage; checked and removed before decoding. */
export const Auth = obj({
  ctr: Type.Integer({ minimum: 0, description: 'monotonic counter (µs since the epoch at hub start, then +1 per message)' }),
  mac: Type.String({ pattern: '^[A-Za-z0-9_-]{22}$', description: 'HMAC-SHA256 of topic, counter and body with the show key, first 16 bytes, base64url' }),
}, 'message authentication of a hub control message');

export const HubHeartbeat = obj({
  v: V,
  seq: Type.Integer({ minimum: 0 }),
  epoch: Type.String(),
  showTime: ShowTime,
  ts: Ts,
  auth: Type.Optional(Auth),
}, 'QoS 0 at 10 Hz. Nodes run their watchdog and estimate their show-clock offset from it.');

// ---- node --------------------------------------------------------------------
export const NodeStateName = Type.Union([
  Type.Literal('init'), Type.Literal('ready'), Type.Literal('armed'),
  Type.Literal('estopped'), Type.Literal('fault'), Type.Literal('lost'),
]);
/** Orders e-stops and releases across hub restarts: compare epoch first, then seq. */
export const EstopStamp = obj({
  epoch: Type.Integer({ minimum: 0, description: 'the hub start count, persisted in its journal directory; grows on every hub start' }),
  seq: Type.Integer({ minimum: 0, description: 'grows with every e-stop and release this hub issues' }),
}, 'order of an e-stop or release');

export const NodeState = obj({
  v: V,
  state: NodeStateName,
  reason: Type.Optional(Type.String({ maxLength: 500 })),
  bdSeq: Type.Integer({ minimum: 0, maximum: 255, description: 'birth/death sequence, matches the birth and the Will' }),
  // The newest e-stop/release stamp this node's latch has seen: a hub whose stamps are older (a new
  // journal directory) moves its epoch above it, or the node would refuse that hub's releases forever.
  estopStamp: Type.Optional(EstopStamp),
  ts: Ts,
}, 'Retained. The node Last Will sets state lost with the bdSeq of its birth.');

const Actuator = obj({
  id: Id,
  kind: Type.Union([Type.Literal('servo'), Type.Literal('motor'), Type.Literal('led'), Type.Literal('relay')]),
  min: Type.Optional(Type.Number()),
  max: Type.Optional(Type.Number()),
  rest: Type.Optional(Type.Number()),
  maxSpeed: Type.Optional(Type.Number({ description: 'degrees per second for servos' })),
  maxDuty: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
}, 'an actuator and its limits, as enforced on the node');
const Sensor = obj({
  id: Id,
  kind: Type.Union([Type.Literal('distance'), Type.Literal('temperature'), Type.Literal('camera'), Type.Literal('button')]),
  unit: Type.String(),
}, 'a sensor');

export const NodeBirth = obj({
  v: V,
  node: Id,
  character: Type.Optional(Id),
  bdSeq: Type.Integer({ minimum: 0, maximum: 255 }),
  software: obj({ name: Type.String(), version: Type.String() }, 'software'),
  platform: Type.String(),
  hardware: Type.String({ description: 'the hardware backend: sim, johnny-five, ...' }),
  configHash: Type.String({ description: 'sha256 of the hardware profile as loaded' }),
  capabilities: obj({
    actuators: Type.Array(Actuator),
    sensors: Type.Array(Sensor),
    gestures: Type.Array(Id),
    voice: Type.Boolean(),
    localModel: Type.Boolean(),
  }, 'what the node can do'),
  ts: Ts,
}, 'Published on every (re)connect, not retained.');

export const NodeHeartbeat = obj({
  v: V,
  seq: Type.Integer({ minimum: 0 }),
  state: NodeStateName,
  uptimeS: Type.Number(),
  clockOffsetMs: Type.Number({ description: 'estimated show-clock offset (show time = local monotonic + offset)' }),
  hubAgeMs: Type.Union([Type.Number(), Type.Null()], { description: 'age of the last hub heartbeat' }),
  rssBytes: Type.Number(),
  queueDropped: Type.Optional(Type.Integer({ minimum: 0, description: 'transcript lines and cue acks dropped (oldest first) from the queue kept while the broker was unreachable, and lines dropped unconfirmed by the hub, since start' })),
  linesUnconfirmed: Type.Optional(Type.Integer({ minimum: 0, description: 'performed lines the hub has not yet confirmed journaling (kept and sent again until it does)' })),
  refusedWrites: Type.Optional(Type.Integer({ minimum: 0, description: 'hardware writes refused by the safety gate (revoked command interfaces), since start' })),
  ts: Ts,
}, 'QoS 0, 1 Hz.');

// ---- cues --------------------------------------------------------------------
export const CueKind = Type.Union([
  Type.Literal('line'), Type.Literal('motion'), Type.Literal('light'), Type.Literal('sound'),
  Type.Literal('gesture'), Type.Literal('wait'),
]);
export const LineParams = obj({
  character: Id,
  text: Type.String({ minLength: 1, maxLength: 2000 }),
  emotion: Type.Optional(Type.String({ maxLength: 40 })),
  intensity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  language: Type.Optional(Type.String({ maxLength: 20 })),
  reading: Type.Optional(Type.String({ minLength: 1, maxLength: 4000, description: 'how to say the text, in kana (Japanese lines: computed by the hub, so a node needs no dictionary to speak kanji)' })),
  part: Type.Optional(Type.Object({
    line: Type.String({ minLength: 1, maxLength: 80, description: 'the same for every part of one line' }),
    index: Type.Integer({ minimum: 0, maximum: 63 }),
    last: Type.Boolean({ description: 'the final part: the node journals the whole line once' }),
  }, { additionalProperties: false, description: 'a line streamed in parts while the model writes it: each part is spoken as it comes; the transcript keeps one line' })),
}, 'speak a line');
export const MotionParams = obj({
  servos: Type.Optional(Type.Record(Type.String({ pattern: ID_PATTERN }), Type.Number({ description: 'target angle in degrees' }))),
  motors: Type.Optional(Type.Record(Type.String({ pattern: ID_PATTERN }), Type.Number({ minimum: -1, maximum: 1 }))),
  durationMs: Type.Optional(Type.Number({ minimum: 0, maximum: 600000 })),
  easing: Type.Optional(Type.Union([Type.Literal('linear'), Type.Literal('ease-in-out')])),
}, 'move servos (degrees) and motors (duty -1..1)');
export const LightParams = obj({
  led: Id,
  color: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })),
  brightness: Type.Number({ minimum: 0, maximum: 1 }),
  fadeMs: Type.Optional(Type.Number({ minimum: 0, maximum: 600000 })),
}, 'set an LED');
export const SoundParams = obj({
  name: Type.String({ minLength: 1, maxLength: 200 }),
  durationMs: Type.Number({ minimum: 0, maximum: 600000 }),
}, 'play a sound');
export const GestureParams = obj({ name: Id }, 'perform a named gesture from the node capability manifest');
export const WaitParams = obj({ durationMs: Type.Number({ minimum: 0, maximum: 600000 }) }, 'do nothing for a time');

const cueBase = {
  v: V,
  id: CueId,
  scene: Id,
  seq: Type.Integer({ minimum: 0 }),
  at: Type.Number({ description: 'show-clock time at which to start' }),
  deadline: Type.Number({ description: 'show-clock time after which the cue must not start (it is rejected as late)' }),
  ts: Ts,
  auth: Type.Optional(Auth),
};
function cueOf<K extends string, P extends TSchema>(kind: K, params: P) {
  return obj({ ...cueBase, kind: Type.Literal(kind), params }, `${kind} cue`);
}
export const Cue = Type.Union([
  cueOf('line', LineParams),
  cueOf('motion', MotionParams),
  cueOf('light', LightParams),
  cueOf('sound', SoundParams),
  cueOf('gesture', GestureParams),
  cueOf('wait', WaitParams),
], { description: 'QoS 1. Nodes drop repeats by cue id.' });

export const CueAckStatus = Type.Union([
  Type.Literal('accepted'), Type.Literal('rejected'), Type.Literal('started'),
  Type.Literal('done'), Type.Literal('failed'),
]);
export const CueAck = obj({
  v: V,
  cue: CueId,
  node: Id,
  status: CueAckStatus,
  reason: Type.Optional(Type.String({ maxLength: 500 })),
  durationMs: Type.Optional(Type.Number({ description: 'with started: how long the node expects the cue to run' })),
  showTime: ShowTime,
  delayedMs: Type.Optional(Type.Number({ minimum: 0, description: 'set when the node queued this ack while the broker was unreachable: how long it waited; showTime and ts are the original ones' })),
  ts: Ts,
}, 'QoS 1.');

export const NodeCommand = obj({
  v: V,
  cmd: Type.Union([Type.Literal('arm'), Type.Literal('disarm'), Type.Literal('stop'), Type.Literal('rebirth')]),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
  ts: Ts,
  auth: Type.Optional(Auth),
}, 'QoS 1, never retained. arm needs a live hub and no e-stop; stop ends running cues and holds position.');

export const Telemetry = obj({
  v: V,
  sensor: Type.String(),
  value: Type.Number(),
  unit: Type.String(),
  ts: Ts,
}, 'QoS 0. One sensor reading, or one metric (sensor "metrics-*").');

export const NodeEvent = obj({
  v: V,
  kind: Id,
  data: Type.Record(Type.String(), Type.Unknown()),
  ts: Ts,
}, 'QoS 1. Something happened on a node: watchdog, limit, motion, fault, ...');

// ---- show-wide ---------------------------------------------------------------

export const Estop = obj({
  v: V,
  active: Type.Boolean(),
  source: Type.String({ maxLength: 100 }),
  reason: Type.Optional(Type.String({ maxLength: 500 })),
  stamp: Type.Optional(EstopStamp),
  ts: Ts,
  auth: Type.Optional(Auth),
}, 'Retained, QoS 1. active=true stops every node and holds; active=false (release) leaves nodes disarmed. A node accepts a release only live (not retained) and stamped newer than the last e-stop it saw.');

export const TranscriptLine = obj({
  v: V,
  node: Id,
  character: Id,
  text: Type.String(),
  emotion: Type.Optional(Type.String()),
  scene: Type.Union([Id, Type.Null()]),
  cue: Type.Union([CueId, Type.Null()]),
  source: Type.Union([Type.Literal('hub'), Type.Literal('adlib')]),
  startShowTime: ShowTime,
  durationMs: Type.Number(),
  delayedMs: Type.Optional(Type.Number({ minimum: 0, description: 'set when the node queued this line while the broker was unreachable: how long it waited; startShowTime and ts are the original ones' })),
  seq: Type.Optional(Type.Integer({ minimum: 0, description: "the node's number for this line (per node run): the hub answers on node/{node}/journaled once the line is in its journal, and the node keeps (and resends) it until then" })),
  ts: Ts,
}, 'QoS 1. One line as it was performed.');

export const LineJournaled = obj({
  v: V,
  seq: Type.Integer({ minimum: 0, description: 'the seq of the transcript line' }),
  lineTs: Type.Number({ description: 'the ts of the transcript line (with seq, it names one line of one node run)' }),
  ts: Ts,
}, "QoS 1. The hub's receipt for one performed line: it is in the journal (written before this is sent). Until it arrives the node keeps the line and sends it again when the hub comes back, so a hub crash (and the embedded broker dying with it) loses no line.");

export const ShowState = obj({
  v: V,
  status: Type.Union([Type.Literal('idle'), Type.Literal('running'), Type.Literal('stopped'), Type.Literal('finished')]),
  scene: Type.Union([Id, Type.Null()]),
  standby: Type.Union([Type.String(), Type.Null()], { description: 'the cue the next GO fires' }),
  running: Type.Array(Type.String()),
  armed: Type.Boolean(),
  estop: Type.Boolean(),
  ts: Ts,
}, 'Retained.');

export const ConsoleReply = obj({
  v: V,
  command: Type.String(),
  ok: Type.Boolean(),
  message: Type.String(),
  stamp: Type.Optional(EstopStamp),
  ts: Ts,
}, 'The hub answer to each console command.');

export const ErrorReport = obj({
  v: V,
  topic: Type.String(),
  error: Type.String(),
  reporter: Type.String({ description: 'hub, or node/{id}' }),
  ts: Ts,
}, 'An invalid message was rejected: what and why.');

export const ConsoleScenePayload = obj({ scene: Id }, 'scene/start as JSON (a bare scene id is also accepted)');
export const ConsoleEmpty = Type.Object({
  reason: Type.Optional(Type.String({ maxLength: 500 })),
}, { additionalProperties: false, description: 'optional JSON {"reason": "..."}; an empty payload is accepted' });

export const ConsoleNextSpeaker = obj({ character: Id }, 'next-speaker as JSON (a bare character id is also accepted)');
export const ConsoleCouncilAsk = obj({
  question: Type.String({ minLength: 1, maxLength: 1000 }),
  onStage: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 12, description: 'the agents to ask (default: every council agent)' })),
}, 'council/ask as JSON (bare text is also accepted as the question)');
export const ConsoleCouncilAgent = obj({
  id: Id,
  create: Type.Optional(Type.Boolean({ description: 'create a new agent (needs role; name and node default from id)' })),
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
  node: Type.Optional(Id),
  role: Type.Optional(Type.String({ minLength: 1, maxLength: 80, description: 'decision, analysis, intelligence, coordination, or your own' })),
  persona: Type.Optional(Type.String({ maxLength: 2000 })),
  params: Type.Optional(obj({
    riskTolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    talkativeness: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    analysisDepth: Type.Optional(Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')])),
  }, 'agent parameters')),
  addCapability: Type.Optional(Id),
  removeCapability: Type.Optional(Id),
}, 'council/agent: customise an agent, or create one with create: true');

export type HubStateT = Static<typeof HubState>;
export type HubHeartbeatT = Static<typeof HubHeartbeat>;
export type NodeStateT = Static<typeof NodeState>;
export type NodeStateNameT = Static<typeof NodeStateName>;
export type NodeBirthT = Static<typeof NodeBirth>;
export type NodeHeartbeatT = Static<typeof NodeHeartbeat>;
export type CueT = Static<typeof Cue>;
export type CueKindT = Static<typeof CueKind>;
export type CueAckT = Static<typeof CueAck>;
export type CueAckStatusT = Static<typeof CueAckStatus>;
export type NodeCommandT = Static<typeof NodeCommand>;
export type TelemetryT = Static<typeof Telemetry>;
export type NodeEventT = Static<typeof NodeEvent>;
export type EstopT = Static<typeof Estop>;
export type EstopStampT = Static<typeof EstopStamp>;
export type TranscriptLineT = Static<typeof TranscriptLine>;
export type LineJournaledT = Static<typeof LineJournaled>;
export type ShowStateT = Static<typeof ShowState>;
export type ConsoleReplyT = Static<typeof ConsoleReply>;
export type ErrorReportT = Static<typeof ErrorReport>;
export type LineParamsT = Static<typeof LineParams>;
export type MotionParamsT = Static<typeof MotionParams>;
export type LightParamsT = Static<typeof LightParams>;
