/**
 * The show file format (YAML). This TypeBox schema is its single source: the hub validates with it
 * and `npm run schemas` writes hub/show.schema.json so editors can autocomplete show files.
 * Times in a show file are in seconds, as in theatre cue software; the wire uses milliseconds.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ID_PATTERN } from '../../protocol/ids.ts';

const Id = Type.String({ pattern: ID_PATTERN });
const Seconds = (description: string) => Type.Number({ minimum: 0, maximum: 3600, description });
const strict = { additionalProperties: false } as const;

export const Character = Type.Object({
  id: Id,
  name: Type.String({ minLength: 1, maxLength: 80 }),
  node: Id,
  role: Type.Optional(Type.String({ maxLength: 80, description: 'e.g. decision, analysis, intelligence, coordination' })),
  persona: Type.Optional(Type.String({ maxLength: 4000 })),
  language: Type.Optional(Type.String({ maxLength: 20, description: 'speech language, e.g. en, ja' })),
  voice: Type.Optional(Type.String({ maxLength: 80 })),
  talkativeness: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  riskTolerance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  // ensemble (improvised scenes, council): all optional
  description: Type.Optional(Type.String({ maxLength: 4000, description: 'who the character is (defaults to persona)' })),
  personality: Type.Optional(Type.String({ maxLength: 2000 })),
  speakingStyle: Type.Optional(Type.String({ maxLength: 500, description: 'how the character talks' })),
  analysisDepth: Type.Optional(Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')])),
  gestures: Type.Optional(Type.Record(Type.String({ pattern: ID_PATTERN }), Type.String({ pattern: ID_PATTERN }), { description: 'semantic gesture (nod, shake, point, think) → this node\'s gesture name' })),
  capabilities: Type.Optional(Type.Array(Type.String({ pattern: ID_PATTERN }), { description: 'council capabilities, e.g. sensors' })),
  latencyBudgetMs: Type.Optional(Type.Number({ minimum: 0, maximum: 60000, description: 'how late an improvised line may be before a filler/fallback' })),
  card: Type.Optional(Type.String({ maxLength: 500, description: 'a Character Card V2 JSON file (relative to the show file) to take the persona from' })),
  profile: Type.Optional(Type.String({ maxLength: 500, description: 'the hardware profile of this character\'s node (relative to the show file); kuroko validate checks its cues against it' })),
}, strict);

const Beat = Type.Object({
  id: Id,
  goal: Type.String({ minLength: 1, maxLength: 500, description: 'what must happen' }),
  keywords: Type.Array(Type.String({ minLength: 1, maxLength: 80 }), { minItems: 1, description: 'a line containing one of these hits the beat' }),
  by: Type.Optional(Type.Array(Id, { description: 'characters who can drive this beat' })),
  line: Type.Optional(Type.Object({ character: Id, text: Type.String({ minLength: 1, maxLength: 400 }) }, { ...strict, description: 'scripted line that hits the beat when turns run short' })),
}, strict);
const MustSay = Type.Object({
  character: Id,
  text: Type.String({ minLength: 1, maxLength: 400 }),
  afterBeat: Type.Optional(Id),
}, strict);

export const CueKinds = ['line', 'motion', 'light', 'sound', 'gesture', 'wait', 'improv', 'council'] as const;

export const ShowCue = Type.Object({
  id: Id,
  name: Type.Optional(Type.String({ maxLength: 200 })),
  kind: Type.Union(CueKinds.map((k) => Type.Literal(k)), { description: 'what the cue does' }),
  character: Type.Optional(Type.String({ pattern: ID_PATTERN, description: 'who performs it (not for wait)' })),
  // line
  text: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  emotion: Type.Optional(Type.String({ maxLength: 40 })),
  intensity: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  // motion
  servos: Type.Optional(Type.Record(Type.String({ pattern: ID_PATTERN }), Type.Number())),
  motors: Type.Optional(Type.Record(Type.String({ pattern: ID_PATTERN }), Type.Number({ minimum: -1, maximum: 1 }))),
  easing: Type.Optional(Type.Union([Type.Literal('linear'), Type.Literal('ease-in-out')])),
  // light
  led: Type.Optional(Type.String({ pattern: ID_PATTERN })),
  color: Type.Optional(Type.String({ pattern: '^#[0-9a-fA-F]{6}$' })),
  brightness: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  // sound / gesture
  sound: Type.Optional(Type.String({ maxLength: 200 })),
  gesture: Type.Optional(Type.String({ pattern: ID_PATTERN })),
  duration: Type.Optional(Seconds('motion, fade, sound or wait duration')),
  // improv: an improvised scene performed by the ensemble
  premise: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
  onStage: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 12, description: 'improv and council: characters on stage' })),
  beats: Type.Optional(Type.Array(Beat, { description: 'improv: story beats to hit, in order' })),
  mustSay: Type.Optional(Type.Array(MustSay, { description: 'improv: lines that must be said verbatim' })),
  maxTurns: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
  minTurns: Type.Optional(Type.Integer({ minimum: 0, maximum: 500 })),
  maxMinutes: Type.Optional(Type.Number({ minimum: 0, maximum: 180 })),
  // council: a question put to the agents on stage, answered in role, then synthesised
  question: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
  // timing, as in theatre cue software
  preWait: Type.Optional(Seconds('delay between GO (or the previous cue) and the action')),
  postWait: Type.Optional(Seconds('auto-continue: delay from this action to the next cue; auto-follow: pause after this cue completes')),
  continue: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('auto-continue'), Type.Literal('auto-follow')], { default: 'none' })),
  notes: Type.Optional(Type.String({ maxLength: 2000, description: 'shown on the standby display' })),
}, strict);

export const Scene = Type.Object({
  id: Id,
  title: Type.Optional(Type.String({ maxLength: 200 })),
  cues: Type.Array(ShowCue, { minItems: 1 }),
}, strict);

export const Show = Type.Object({
  kuroko: Type.Literal(1, { description: 'show file format version' }),
  show: Id,
  title: Type.String({ minLength: 1, maxLength: 200 }),
  settings: Type.Optional(Type.Object({
    minGoInterval: Type.Optional(Seconds('minimum time between two GOs (default 0.5)')),
    leadTime: Type.Optional(Seconds('cues are sent this far ahead so every node starts at the same instant (default 0.1)')),
    lateTolerance: Type.Optional(Seconds('a node rejects a cue arriving this long after its start time (default 0.5)')),
    ackTimeout: Type.Optional(Seconds('a cue not accepted within this time is reported missing (default 1)')),
  }, strict)),
  privacy: Type.Optional(Type.Object({
    retentionDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'journals older than this are removed by kuroko journal prune --show FILE (default 30)' })),
    keepOperatorText: Type.Optional(Type.Boolean({ description: 'keep what operators type (council questions, reasons) in the journal; default false: redacted' })),
  }, { ...strict, description: 'what the journal keeps, and for how long (see PRIVACY.md)' })),
  osc: Type.Optional(Type.Object({
    allowArm: Type.Optional(Type.Boolean({ description: 'let OSC clients (QLab, Eos, Companion) arm the nodes and release an e-stop (default false; e-stop is always allowed)' })),
  }, { ...strict, description: 'show control over OSC (kuroko hub --osc-port N)' })),
  cast: Type.Array(Character, { minItems: 4, maxItems: 12, description: 'a show has 4 to 12 characters' }),
  scenes: Type.Array(Scene, { minItems: 1 }),
}, { ...strict, description: 'Kuroko show file' });

export type ShowT = Static<typeof Show>;
export type SceneT = Static<typeof Scene>;
export type ShowCueT = Static<typeof ShowCue>;
export type CharacterT = Static<typeof Character>;
export type BeatT = Static<typeof Beat>;
export type MustSayT = Static<typeof MustSay>;
