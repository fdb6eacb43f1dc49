/**
 * Hardware profile: one declarative YAML file per node (in the spirit of ESPHome).
 * This TypeBox schema is the single source: the edge validates profiles with it, and
 * `npm run schemas` writes firmware-config/profile.schema.json for editors.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ID_PATTERN } from '../protocol/ids.ts';

const Id = Type.String({ pattern: ID_PATTERN });
const strict = { additionalProperties: false } as const;
/** A board pin: a digital pin number, or an analog pin such as "A0". */
const Pin = Type.Union([Type.Integer({ minimum: 0, maximum: 69 }), Type.String({ pattern: '^A[0-9]{1,2}$' })]);

export const Platform = Type.Union([
  Type.Literal('rpi4'), Type.Literal('rpi5'), Type.Literal('jetson-orin-nano'), Type.Literal('linux'), Type.Literal('sim'),
], { description: 'the computer inside the robot; sim runs simulated hardware' });

export const Board = Type.Object({
  id: Id,
  type: Type.Literal('firmata', { description: 'a Firmata-compatible board (Kuroko firmware or StandardFirmata) over serial' }),
  model: Type.Union([Type.Literal('uno'), Type.Literal('nano'), Type.Literal('mega')], { default: 'uno' }),
  port: Type.String({ description: 'serial port path, e.g. /dev/ttyACM0 or /dev/serial/by-id/...' }),
  baud: Type.Optional(Type.Integer({ default: 57600 })),
  failsafeMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 10000, description: 'Kuroko firmware: go safe after this much host silence' })),
}, strict);

export const Servo = Type.Object({
  id: Id,
  board: Type.Optional(Id),
  pin: Type.Optional(Pin),
  min: Type.Number({ description: 'minimum angle in degrees (0-180)' }),
  max: Type.Number({ description: 'maximum angle in degrees (0-180)' }),
  rest: Type.Number({ description: 'safe pose angle' }),
  maxSpeed: Type.Number({ exclusiveMinimum: 0, description: 'degrees per second' }),
  inverted: Type.Optional(Type.Boolean()),
  pulseUs: Type.Optional(Type.Object({
    min: Type.Integer({ minimum: 544, maximum: 3000, description: 'pulse width at 0° (µs); at least 544, below which Firmata reads degrees' }),
    max: Type.Integer({ minimum: 544, maximum: 3000, description: 'pulse width at 180° (µs)' }),
  }, { ...strict, description: 'servo pulse range; default 544..2400 µs' })),
  role: Type.Optional(Type.Union([Type.Literal('jaw'), Type.Literal('head-pan'), Type.Literal('head-tilt'), Type.Literal('other')])),
}, strict);

export const Motor = Type.Object({
  id: Id,
  board: Type.Optional(Id),
  driver: Type.Union([Type.Literal('pwm-dir'), Type.Literal('dual-pwm')]),
  pins: Type.Optional(Type.Object({
    pwm: Type.Optional(Pin), dir: Type.Optional(Pin), a: Type.Optional(Pin), b: Type.Optional(Pin),
  }, strict)),
  maxDuty: Type.Number({ minimum: 0, maximum: 1 }),
}, strict);

export const Led = Type.Object({
  id: Id,
  board: Type.Optional(Id),
  type: Type.Union([Type.Literal('single'), Type.Literal('pwm'), Type.Literal('rgb')]),
  pin: Type.Optional(Pin),
  pins: Type.Optional(Type.Object({ r: Pin, g: Pin, b: Pin }, strict)),
  common: Type.Optional(Type.Union([Type.Literal('anode'), Type.Literal('cathode')])),
  emotion: Type.Optional(Type.Boolean({ description: 'shows the character emotion' })),
}, strict);

const ScriptedReading = Type.Object({ t: Type.Number({ minimum: 0, description: 'ms after start' }), value: Type.Number() }, strict);

export const Sensor = Type.Union([
  Type.Object({
    id: Id, kind: Type.Literal('distance'), model: Type.Union([Type.Literal('gp2y0a21'), Type.Literal('sim')]),
    board: Type.Optional(Id), pin: Type.Optional(Pin),
    stopBelowCm: Type.Optional(Type.Number({ minimum: 0, description: 'motors stop while an obstacle is nearer than this' })),
    periodMs: Type.Optional(Type.Integer({ minimum: 20, default: 200 })),
    sim: Type.Optional(Type.Array(ScriptedReading)),
  }, strict),
  Type.Object({
    id: Id, kind: Type.Literal('temperature'),
    model: Type.Union([Type.Literal('lm35'), Type.Literal('tmp36'), Type.Literal('ds18b20'), Type.Literal('thermal-zone'), Type.Literal('sim')]),
    board: Type.Optional(Id), pin: Type.Optional(Pin),
    path: Type.Optional(Type.String({ description: '1-wire device or thermal zone path' })),
    periodMs: Type.Optional(Type.Integer({ minimum: 100, default: 1000 })),
    sim: Type.Optional(Type.Array(ScriptedReading)),
  }, strict),
  Type.Object({
    id: Id, kind: Type.Literal('camera'),
    source: Type.Union([Type.Literal('v4l2'), Type.Literal('libcamera'), Type.Literal('testsrc')]),
    device: Type.Optional(Type.String()),
    width: Type.Integer({ minimum: 16, maximum: 1920 }),
    height: Type.Integer({ minimum: 16, maximum: 1080 }),
    fps: Type.Number({ exclusiveMinimum: 0, maximum: 60 }),
    snapshots: Type.Optional(Type.Boolean({ default: false, description: 'privacy by default: no frame leaves the node unless true' })),
    motionThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  }, strict),
]);

export const Gpio = Type.Object({
  chipOffset: Type.Optional(Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 0 })], { description: 'sysfs GPIO number offset; auto detects Bookworm (512, 571 on a Pi 5)' })),
  backend: Type.Optional(Type.Union([Type.Literal('auto'), Type.Literal('sysfs'), Type.Literal('chardev')], { description: 'auto: sysfs GPIO (onoff) where the kernel has it, else the GPIO character device (kuroko_gpio addon; Pi 5 on new kernels, Jetson)' })),
  chip: Type.Optional(Type.String({ minLength: 1, description: 'character device only: /dev/gpiochipN, gpiochipN or the chip label (e.g. pinctrl-rp1); default: the header chip by label' })),
  estop: Type.Optional(Type.Object({ line: Type.Integer({ minimum: 0 }), activeLow: Type.Optional(Type.Boolean()), debounceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })) }, strict)),
  relays: Type.Optional(Type.Array(Type.Object({ id: Id, line: Type.Integer({ minimum: 0 }), activeLow: Type.Optional(Type.Boolean()) }, strict))),
  statusLed: Type.Optional(Type.Object({ line: Type.Integer({ minimum: 0 }) }, strict)),
}, strict);

export const GestureFrame = Type.Object({
  servos: Type.Optional(Type.Record(Type.String({ pattern: ID_PATTERN }), Type.Number())),
  ms: Type.Number({ minimum: 0, maximum: 60000 }),
}, strict);

export const Profile = Type.Object({
  kuroko: Type.Literal(1, { description: 'profile format version' }),
  node: Type.Optional(Type.String({ pattern: ID_PATTERN, description: 'if set, the node id this profile belongs to (must match --node)' })),
  description: Type.Optional(Type.String()),
  platform: Platform,
  boards: Type.Optional(Type.Array(Board)),
  servos: Type.Optional(Type.Array(Servo)),
  motors: Type.Optional(Type.Array(Motor)),
  leds: Type.Optional(Type.Array(Led)),
  sensors: Type.Optional(Type.Array(Sensor)),
  gpio: Type.Optional(Gpio),
  gestures: Type.Optional(Type.Record(Type.String({ pattern: ID_PATTERN }), Type.Array(GestureFrame, { minItems: 1 }))),
  voice: Type.Optional(Type.Object({
    engine: Type.Union([Type.Literal('sim'), Type.Literal('espeak-ng')]),
    msPerChar: Type.Optional(Type.Number({ minimum: 1, maximum: 1000 })),
    device: Type.Optional(Type.String({ description: 'audio output (ALSA device)' })),
  }, strict)),
  safety: Type.Optional(Type.Object({
    watchdogMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 60000, default: 500 })),
    maxTemperatureC: Type.Optional(Type.Number({ description: 'actuators turn off above this' })),
  }, strict)),
  model: Type.Optional(Type.Object({
    dir: Type.Optional(Type.String({ description: 'local model folder; default: the shipped int8 model' })),
    enabled: Type.Optional(Type.Boolean()),
  }, strict)),
}, { ...strict, description: 'Kuroko hardware profile' });

export type ProfileT = Static<typeof Profile>;
export type ServoT = Static<typeof Servo>;
export type MotorT = Static<typeof Motor>;
export type LedT = Static<typeof Led>;
export type SensorT = Static<typeof Sensor>;
export type GestureFrameT = Static<typeof GestureFrame>;
