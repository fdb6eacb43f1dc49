/**
 * The OSC flags of `kuroko hub` and `kuroko demo`, checked before anything starts.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { UsageError } from '../../bin/errors.ts';
import type { Hub } from '../hub.ts';
import { AllowList, DEFAULT_OSC_ALLOW } from './allow-list.ts';
import { OscServer } from './server.ts';
import { commandsOf, stageStateOf } from './hub-adapter.ts';

export const OSC_OPTIONS = {
  'osc-port': { type: 'string' },
  'osc-bind': { type: 'string' },
  'osc-allow': { type: 'string' },
  'osc-feedback': { type: 'string' },
} as const;

export const OSC_HELP = `  --osc-port N       listen for OSC (QLab, Eos, Companion) on UDP and TCP port N (TCP: SLIP
                     or length-prefixed framing); see README "Show control over OSC"
  --osc-bind ADDR    address the OSC port listens on (default 127.0.0.1; 0.0.0.0 for the network)
  --osc-allow LIST   source addresses allowed to send OSC, comma-separated, IPv4 ranges as
                     10.0.0.0/24 (default 127.0.0.1,::1); others are ignored unanswered
  --osc-feedback LIST  always send state feedback to these UDP host:port targets, comma-separated`;

export interface OscFlags { 'osc-port'?: string; 'osc-bind'?: string; 'osc-allow'?: string; 'osc-feedback'?: string }

export interface OscSettings { port: number; host: string; allow: AllowList; feedback: { host: string; port: number }[] }

function port(s: string, flag: string): number {
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > 65535) throw new UsageError(`${flag} ${s} is not a port number (0-65535)`);
  return n;
}

/** null when --osc-port was not given (the other OSC flags then make no sense). */
export function parseOscFlags(f: OscFlags): OscSettings | null {
  if (f['osc-port'] === undefined) {
    const stray = (['osc-bind', 'osc-allow', 'osc-feedback'] as const).find((k) => f[k] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --osc-port N (the OSC port to open)`);
    return null;
  }
  const host = f['osc-bind'] ?? '127.0.0.1';
  if (!isIP(host)) throw new UsageError(`--osc-bind ${host} is not an IP address (e.g. 127.0.0.1, 0.0.0.0 or a LAN address of this machine)`);
  let allow: AllowList;
  try {
    allow = new AllowList(f['osc-allow'] ? f['osc-allow'].split(',').filter(Boolean) : DEFAULT_OSC_ALLOW);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const feedback = (f['osc-feedback'] ?? '').split(',').filter(Boolean).map((t) => {
    const i = t.lastIndexOf(':');
    if (i < 1) throw new UsageError(`--osc-feedback ${t}: give host:port, e.g. 192.168.1.20:12321`);
    return { host: t.slice(0, i).replace(/^\[|\]$/g, ''), port: port(t.slice(i + 1), '--osc-feedback') };
  });
  return { port: port(f['osc-port'], '--osc-port'), host, allow, feedback };
}

/** Opens the OSC port for a started hub. */
export async function startOsc(hub: Hub, s: OscSettings, log: Logger): Promise<OscServer> {
  const server = new OscServer({
    show: hub.o.show.show,
    allowArm: hub.o.show.osc?.allowArm ?? false,
    port: s.port,
    host: s.host,
    allow: s.allow,
    feedback: s.feedback,
    commands: commandsOf(hub),
    state: stageStateOf(hub),
    log: { info: (m) => log.info(m), warn: (m) => log.warn(m) },
  });
  try {
    await server.start();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new UsageError(err.code === 'EADDRINUSE' ? `--osc-port ${s.port}: the port is already in use (UDP or TCP); choose another` : `OSC port: ${err.message}`);
  }
  return server;
}

export function describeOsc(server: OscServer, s: OscSettings, show: string, allowArm: boolean): string {
  return `  osc     udp+tcp ${s.host}:${server.port}   /kuroko/${show}/go …   allowed from ${s.allow.describe()}${allowArm ? '' : '   (arm/release from OSC off)'}`;
}
