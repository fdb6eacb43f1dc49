/**
 * The hub's check of what a page sends: Ajv against the page protocol's TypeBox schema, so a
 * malformed or unknown message is refused in words and never reaches a command.
 */
import { Ajv } from 'ajv';
import { ClientMessage, ServerMessage, type ClientMessageT } from './page-protocol.ts';

const ajv = new Ajv({ allErrors: false, strict: false });
const checkClient = ajv.compile(ClientMessage);
const checkServer = ajv.compile(ServerMessage);

export function parseClientMessage(raw: string): { ok: true; value: ClientMessageT } | { ok: false; error: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  if (checkClient(v)) return { ok: true, value: v as ClientMessageT };
  const e = checkClient.errors?.find((x) => x.keyword !== 'anyOf' && x.keyword !== 'const') ?? checkClient.errors?.[0];
  return { ok: false, error: e ? `${e.instancePath || '(message)'} ${e.message ?? 'is invalid'}` : 'does not match the page protocol' };
}

/** For tests: does a message the hub sent match the protocol? */
export function serverMessageProblem(m: unknown): string | null {
  if (checkServer(m)) return null;
  return JSON.stringify(checkServer.errors?.slice(0, 3));
}
