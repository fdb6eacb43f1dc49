/**
 * One logger for every Kuroko process: readable, coloured lines on a terminal; JSON lines (pino)
 * otherwise, so a log collector can parse them. Each record names its process (`name`).
 */
import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

// pino-pretty is loaded only for a terminal: a node or hub under systemd or a collector logs JSON and
// should not pay ~0.1 s of start-up CPU for a formatter it never uses.
const require = createRequire(import.meta.url);

export type { Logger };
export const LOG_LEVELS: LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function checkLogLevel(level: string): LevelWithSilent {
  if (!LOG_LEVELS.includes(level as LevelWithSilent)) {
    throw new Error(`--log-level ${level} is not a level; use one of ${LOG_LEVELS.join(', ')}`);
  }
  return level as LevelWithSilent;
}

export function createLogger(name: string, level: string = process.env.KUROKO_LOG_LEVEL ?? 'info'): Logger {
  const lvl = checkLogLevel(level);
  const wantPretty = process.env.KUROKO_LOG_FORMAT ? process.env.KUROKO_LOG_FORMAT === 'pretty' : process.stderr.isTTY;
  if (wantPretty) {
    // pino-pretty runs in-process (not as a worker transport) so short-lived commands flush every line.
    const pretty = require('pino-pretty') as typeof PinoPretty;
    return pino({ name, level: lvl }, pretty({ colorize: true, destination: 2, sync: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', singleLine: true }));
  }
  return pino({ name, level: lvl }, pino.destination({ fd: 2, sync: true }));
}
