/**
 * The node agent's HTTP API: the contract between `kuroko fleet …` (on the operator's machine)
 * and `kuroko node agent` (on each robot's computer). One place for paths, limits, payload
 * schemas and the progress lines both sides print, as protocol/topics.ts is for MQTT.
 *
 * Every answer is JSON. Long operations (adopt, update, rollback) answer with NDJSON: one
 * `AgentProgress` line per step as it happens, then one `AgentResult` line.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ValidateFunction } from 'ajv';
import { compileValidator } from './validators.ts';
import { Id, NodeStateName } from './schemas.ts';
import { describeAjvError } from './codec.ts';

export const AGENT_API_VERSION = 1 as const;
/** The mDNS service type agents advertise: `_kuroko._tcp`. */
export const AGENT_SERVICE_TYPE = 'kuroko';
export const AGENT_DEFAULT_PORT = 7701;
/** JSON request bodies (adopt: profile text + credentials) stay small. */
export const AGENT_MAX_JSON_BYTES = 256 * 1024;
/** A release bundle may be large (node_modules, model); the agent's --max-bundle-mb can change it. */
export const AGENT_DEFAULT_MAX_BUNDLE_BYTES = 512 * 1024 * 1024;

export const AGENT_ROUTES = {
  info: { method: 'GET', path: '/v1/info', auth: false, description: 'who this node is: name, node id, version, firmware, state, show lock' },
  adopt: { method: 'POST', path: '/v1/adopt', auth: 'when adopted', description: 'adopt (or re-adopt) the node: while unadopted a SealedAdopt (or an AdoptRequest with pairingCode), then an AdoptRequest with the fleet\'s token; NDJSON progress' },
  update: { method: 'POST', path: '/v1/update', auth: true, description: 'install a release bundle (body: the bundle file; ?force=1, ?health=S); NDJSON progress' },
  rollback: { method: 'POST', path: '/v1/rollback', auth: true, description: 'go back to the previous release; NDJSON progress' },
} as const;
export type AgentRouteName = keyof typeof AGENT_ROUTES;

function obj<T extends Record<string, TSchema>>(props: T, description: string) {
  return Type.Object(props, { additionalProperties: false, description });
}

export const AgentStateName = Type.Union([
  Type.Literal('unadopted'), Type.Literal('adopting'), Type.Literal('starting'), Type.Literal('running'),
  Type.Literal('updating'), Type.Literal('rolling-back'), Type.Literal('stopped'), Type.Literal('failed'),
]);

export const AgentInfo = obj({
  v: Type.Literal(AGENT_API_VERSION),
  name: Type.String({ maxLength: 63, description: 'the computer\'s name (hostname by default)' }),
  nodeId: Type.Union([Id, Type.Null()]),
  show: Type.Union([Id, Type.Null()]),
  character: Type.Union([Id, Type.Null()]),
  state: AgentStateName,
  version: Type.Union([Type.String(), Type.Null()], { description: 'the release `current` points at' }),
  previous: Type.Union([Type.String(), Type.Null()], { description: 'the release a rollback goes back to' }),
  firmware: Type.Union([Type.String(), Type.Null()], { description: 'firmware on the node\'s boards, e.g. "Kuroko 1.0"; null when unknown or no boards' }),
  nodeState: Type.Union([NodeStateName, Type.Null()], { description: 'the node process\'s last state on MQTT' }),
  lock: obj({ locked: Type.Boolean(), reason: Type.String() }, 'the show lock: no update while the show is armed or a scene runs'),
  lastResult: Type.Union([Type.String(), Type.Null()], { description: 'what the last adopt/update/rollback ended with' }),
  uptimeS: Type.Number(),
  ts: Type.Number(),
}, 'GET /v1/info');

export const AdoptRequest = obj({
  v: Type.Literal(AGENT_API_VERSION),
  nodeId: Id,
  show: Id,
  character: Type.Optional(Id),
  broker: Type.String({ pattern: '^mqtts?://', maxLength: 300 }),
  profile: Type.String({ maxLength: 128 * 1024, description: 'the hardware profile, as YAML text' }),
  token: Type.String({ minLength: 24, maxLength: 128, description: 'the bearer token the fleet uses for this node from now on' }),
  pairingCode: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'the one-time code the unadopted agent printed on the node (needed until the node is adopted)' })),
  releaseKey: Type.Optional(Type.String({ maxLength: 4096, description: 'PEM public key that release bundles must be signed with' })),
  credentials: Type.Optional(Type.Record(Type.String({ maxLength: 100 }), Type.String({ maxLength: 16384 }), { description: 'node credentials (files by name), installed by the credentials step' })),
}, 'POST /v1/adopt');

/** An AdoptRequest sealed with the node's pairing code (protocol/pairing-seal.ts): what the fleet sends a new node. */
export const SealedAdopt = obj({
  v: Type.Literal(AGENT_API_VERSION),
  sealed: obj({
    alg: Type.Literal('scrypt-aes-256-gcm'),
    salt: Type.String({ maxLength: 64 }), iv: Type.String({ maxLength: 64 }), tag: Type.String({ maxLength: 64 }),
    data: Type.String({ maxLength: AGENT_MAX_JSON_BYTES, description: 'the AdoptRequest JSON, encrypted, base64' }),
  }, 'scrypt(code, salt) → AES-256-GCM key; associated data kuroko-adopt-v1:<agent name>'),
}, 'POST /v1/adopt to an unadopted node, sealed with its pairing code');

export const AgentProgress = obj({
  step: Type.String({ description: 'e.g. verify, unpack, lock, switch, restart, health, commit, rollback, flash, credentials' }),
  status: Type.Union([Type.Literal('start'), Type.Literal('ok'), Type.Literal('skip'), Type.Literal('fail'), Type.Literal('info')]),
  message: Type.String(),
  node: Type.Optional(Type.String()),
  ms: Type.Optional(Type.Number({ description: 'how long the step took' })),
}, 'one progress line (NDJSON)');

export const AgentResult = obj({
  done: Type.Literal(true),
  ok: Type.Boolean(),
  outcome: Type.Union([
    Type.Literal('adopted'), Type.Literal('committed'), Type.Literal('rolled-back'), Type.Literal('refused'),
    Type.Literal('failed'), Type.Literal('unchanged'),
  ]),
  version: Type.Union([Type.String(), Type.Null()]),
  message: Type.String(),
  next: Type.Optional(Type.String({ description: 'what to do next, when something failed' })),
  ms: Type.Number(),
}, 'the last line of an NDJSON answer');

export const AgentError = obj({
  error: Type.String(),
  next: Type.Optional(Type.String()),
}, 'any refusal (4xx/5xx)');

export type AgentInfoT = Static<typeof AgentInfo>;
export type SealedAdoptT = Static<typeof SealedAdopt>;
export type AdoptRequestT = Static<typeof AdoptRequest>;
export type AgentProgressT = Static<typeof AgentProgress>;
export type AgentResultT = Static<typeof AgentResult>;
export type AgentErrorT = Static<typeof AgentError>;
export type AgentStateNameT = Static<typeof AgentStateName>;

export const AGENT_SCHEMAS = { AgentInfo, AdoptRequest, SealedAdopt, AgentProgress, AgentResult, AgentError } as const;
const SCHEMAS = AGENT_SCHEMAS;
const compiled = new Map<string, ValidateFunction>();

/** Checks a parsed body against one of the API's schemas; the error names the field. */
export function checkAgentPayload<K extends keyof typeof SCHEMAS>(kind: K, value: unknown): { ok: true; value: Static<(typeof SCHEMAS)[K]> } | { ok: false; error: string } {
  let v = compiled.get(kind);
  if (!v) { v = compileValidator(SCHEMAS[kind], 'payload'); compiled.set(kind, v); }
  if (v(value)) return { ok: true, value: value as Static<(typeof SCHEMAS)[K]> };
  const e = (v.errors ?? []).find((x) => x.keyword !== 'anyOf') ?? v.errors?.[0];
  return { ok: false, error: e ? describeAjvError(e) : 'does not match the schema' };
}

/**
 * HTTPS after adoption: when the fleet adopts a node with a `kuroko access` store, it issues the
 * agent a server certificate from the show CA for this name (not resolvable, only checked), sends
 * it among the credentials files, and from then on talks to the agent over TLS trusting only that
 * CA (pinned in its fleet folder) and only this name. One port answers both: plain HTTP stays for
 * GET /v1/info (discovery), every call that needs the token then needs TLS.
 */
export const agentTlsName = (nodeId: string) => `${nodeId}.kuroko-agent`;
export const AGENT_TLS_FILES = { cert: 'agent-tls.crt', key: 'agent-tls.key', ca: 'agent-ca.crt' } as const;

/** The mDNS TXT record of an agent (strings only; /v1/info is the authority). */
export interface AgentTxt { v: string; name: string; node: string; version: string; state: string }
