/**
 * Kuroko's OSC address space: what a QLab network cue, an Eos macro or a Companion button sends,
 * mapped onto the console commands (the same ones MQTT console/* and the page run), and the
 * feedback the hub sends back. Pure functions only; the transports live in server.ts.
 *
 *   in (to the hub)                               console command
 *   /kuroko/{show}/go                             go
 *   /kuroko/{show}/scene/start   s:scene          scene/start {scene}
 *   /kuroko/{show}/stop          [s:reason]       stop
 *   /kuroko/{show}/arm                            arm      (only if the show allows it: osc.allowArm)
 *   /kuroko/{show}/disarm        [s:reason]       disarm
 *   /kuroko/{show}/estop         [s:reason]       estop    (always allowed)
 *   /kuroko/{show}/release                        release  (only if the show allows it: osc.allowArm)
 *   /kuroko/{show}/next-speaker  [s:character]    next-speaker (none or "" clears it)
 *   /kuroko/{show}/subscribe     [i:port]         send state feedback to the sender (at this UDP port)
 *   /kuroko/{show}/unsubscribe   [i:port]
 *   /kuroko/{show}/state                          send the whole state once to the sender
 *
 *   out (from the hub)
 *   /kuroko/{show}/reply          s:command i:ok(1|0) s:message     every command is answered
 *   /kuroko/{show}/state/status   s:idle|running|stopped|...
 *   /kuroko/{show}/state/scene    s:scene ("" none)
 *   /kuroko/{show}/state/standby  s:cue ("" none)
 *   /kuroko/{show}/state/running  s:cue ids, comma-separated ("" none)
 *   /kuroko/{show}/state/armed    i:1|0
 *   /kuroko/{show}/state/estop    i:1|0
 *   /kuroko/{show}/node/{id}/state s:unknown|init|ready|armed|estopped|fault|lost
 */
import type { OscArgument, OscMessage } from 'osc';
import type { ShowStateT } from '../../protocol/index.ts';
import type { CommandArgs } from '../console.ts';

export const OSC_PREFIX = '/kuroko';

/** A console command an OSC message asks for. */
export interface OscCommand { kind: 'command'; command: string; args: CommandArgs }
/** Subscription management and state requests, handled by the OSC server itself. */
export interface OscControl { kind: 'subscribe' | 'unsubscribe' | 'state'; port?: number }
export interface OscRefusal { kind: 'refused'; command: string; message: string }
export type OscRequest = OscCommand | OscControl | OscRefusal;

export interface AddressSpaceOptions {
  show: string;
  /** osc.allowArm of the show file: arm and release from OSC. */
  allowArm: boolean;
}

const str = (a: OscArgument | undefined): string | undefined =>
  a && (a.type === 's' || a.type === 'S' || a.type === 'c') ? String(a.value) : undefined;
const int = (a: OscArgument | undefined): number | undefined =>
  a && (a.type === 'i' || a.type === 'h' || a.type === 'f' || a.type === 'd') && Number.isInteger(Number(a.value)) ? Number(a.value) : undefined;

/** What an incoming OSC message asks for; null when it is not addressed to Kuroko at all. */
export function parseOscMessage(m: OscMessage, o: AddressSpaceOptions): OscRequest | null {
  if (!m.address.startsWith(`${OSC_PREFIX}/`)) return null;
  const parts = m.address.slice(OSC_PREFIX.length + 1).split('/');
  const show = parts.shift();
  const path = parts.join('/');
  if (show !== o.show) {
    return { kind: 'refused', command: path || '?', message: `this hub runs show "${o.show}", not "${show}": send to ${OSC_PREFIX}/${o.show}/${path || 'go'}` };
  }
  const reason = str(m.args[0]);
  switch (path) {
    case 'go': return { kind: 'command', command: 'go', args: {} };
    case 'stop': return { kind: 'command', command: 'stop', args: reason ? { reason } : {} };
    case 'disarm': return { kind: 'command', command: 'disarm', args: reason ? { reason } : {} };
    case 'estop': return { kind: 'command', command: 'estop', args: { reason: reason ?? 'OSC' } };
    case 'arm':
    case 'release':
      if (!o.allowArm) {
        return { kind: 'refused', command: path, message: `${path} from OSC is off for this show (set osc.allowArm: true in the show file to allow it; estop is always allowed)` };
      }
      return { kind: 'command', command: path, args: {} };
    case 'scene/start': {
      const scene = str(m.args[0]);
      if (!scene) return { kind: 'refused', command: 'scene/start', message: `scene/start needs the scene id as a string argument, e.g. oscsend HOST PORT ${OSC_PREFIX}/${o.show}/scene/start s SCENE` };
      return { kind: 'command', command: 'scene/start', args: { scene } };
    }
    case 'next-speaker': return { kind: 'command', command: 'next-speaker', args: { character: str(m.args[0]) ?? '' } };
    case 'subscribe':
    case 'unsubscribe':
    case 'state': {
      const port = int(m.args[0]);
      if (port !== undefined && (port < 1 || port > 65535)) return { kind: 'refused', command: path, message: `${path}: port ${port} is not a port number (1-65535)` };
      return { kind: path, ...(port !== undefined ? { port } : {}) };
    }
    default:
      return { kind: 'refused', command: path || '?', message: `unknown OSC address ${m.address}; see README "OSC" for the address space` };
  }
}

export function replyMessage(show: string, command: string, ok: boolean, message: string): OscMessage {
  return { address: `${OSC_PREFIX}/${show}/reply`, args: [{ type: 's', value: command }, { type: 'i', value: ok ? 1 : 0 }, { type: 's', value: message }] };
}

/** The feedback for a show state (one message per field, so a Companion button can follow one). */
export function showStateMessages(show: string, s: ShowStateT): OscMessage[] {
  const base = `${OSC_PREFIX}/${show}/state`;
  const s1 = (address: string, value: string): OscMessage => ({ address, args: [{ type: 's', value }] });
  const i1 = (address: string, value: boolean): OscMessage => ({ address, args: [{ type: 'i', value: value ? 1 : 0 }] });
  return [
    s1(`${base}/status`, s.status),
    s1(`${base}/scene`, s.scene ?? ''),
    s1(`${base}/standby`, s.standby ?? ''),
    s1(`${base}/running`, s.running.join(',')),
    i1(`${base}/armed`, s.armed),
    i1(`${base}/estop`, s.estop),
  ];
}

export function nodeStateMessage(show: string, node: string, state: string): OscMessage {
  return { address: `${OSC_PREFIX}/${show}/node/${node}/state`, args: [{ type: 's', value: state }] };
}
