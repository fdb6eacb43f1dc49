/**
 * `kuroko flash`: writes the Kuroko firmware to a node's Arduino boards through their bootloader
 * (avrdude, STK500v1 / optiboot), lets avrdude verify it, then opens the board and checks that it
 * answers as Kuroko firmware of the version this checkout builds.
 *
 *   kuroko flash --node ID [--profile FILE] [--board-id ID]
 *   kuroko flash --port /dev/ttyACM0 --board uno|nano
 *   options: --hex FILE (flash this instead of building), --upload-baud N (default 115200;
 *            57600 for Nanos with the old bootloader), --attempts N, --no-check, --help
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadProfile } from './profile.ts';
import { DocumentError } from '../protocol/yaml-document.ts';
import { buildFirmware, BuildError, FIRMWARE_HEX } from './build-tools.ts';
import { FIRMWARE_NAME, FIRMWARE_VERSION, FIRMWARE_VERSION_TEXT } from './firmware/version.ts';
import { openSerialFirmata } from '../edge/hardware/board-link.ts';
import { flagErrorMessage } from '../bin/errors.ts';

export const FLASH_HELP = `kuroko flash — build the Kuroko firmware and flash it to a node's board

Usage:
  kuroko flash --node ID [--profile FILE] [--board-id ID]    every board in the node's profile
  kuroko flash --port PORT --board uno|nano                  one board on a serial port

Options:
  --node ID          the node whose boards to flash; its profile is --profile FILE, else
                     firmware-config/profiles/ID.yaml, else the profile there whose "node:" is ID
  --profile FILE     the node's hardware profile (its boards: model, port)
  --board-id ID      only this board of the profile
  --port PORT        a serial port (/dev/ttyACM0, /dev/serial/by-id/…, or the emulated Uno's pty)
  --board uno|nano   the board on --port (the Kuroko firmware runs on the ATmega328P only)
  --hex FILE         flash this firmware instead of building it (a node without the AVR toolchain)
  --upload-baud N    bootloader speed (default 115200; 57600 for a Nano with the old bootloader)
  --attempts N       bootloader sync tries, 1-99 (avrdude -x attempts=N)
  --no-check         do not open the board afterwards to check it answers as Kuroko firmware
  -h, --help         this help

It builds the firmware (reproducibly; needs gcc-avr, avr-libc), flashes it with avrdude through the
bootloader, verifies it, then opens the board over Firmata and checks it answers as
${FIRMWARE_NAME} ${FIRMWARE_VERSION_TEXT}.

Examples:
  kuroko flash --port /dev/ttyACM0 --board uno
  kuroko flash --node kenzaki --profile kenzaki.yaml
  kuroko flash --node sample-robot                           # finds firmware-config/profiles/sample-robot.yaml

  # The emulated Uno (no hardware): build it, start it with its bootloader in a second terminal
  # (it runs until Ctrl-C or until its standard input closes), then flash it through its pty:
  npm run simavr:build
  firmware-config/simavr/build/kuroko-avr-sim --bootloader firmware-config/simavr/build/optiboot_atmega328.hex --link /tmp/kuroko-uno
  kuroko flash --port /tmp/kuroko-uno --board uno`;

const PROFILES_DIR = fileURLToPath(new URL('./profiles/', import.meta.url));
const SUPPORTED = new Set(['uno', 'nano']);

export interface FlashIo { out(line: string): void; err(line: string): void }
const consoleIo: FlashIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

export class FlashError extends Error {}

/** One board to flash: its id in the profile, serial port, model and Firmata baud rate. */
export interface Target { id: string; port: string; model: string; baud: number }
/** What a flashed board must answer: the firmware's name and version. */
export interface ExpectedFirmware { name: string; major: number; minor: number }
const THIS_FIRMWARE: ExpectedFirmware = { name: FIRMWARE_NAME, ...FIRMWARE_VERSION };

/** Finds the profile of a node: --profile, else profiles/<id>.yaml, else one whose `node:` is the id. */
function findNodeProfile(node: string, file?: string): string {
  if (file) return file;
  const direct = join(PROFILES_DIR, `${node}.yaml`);
  if (existsSync(direct)) return direct;
  for (const f of readdirSync(PROFILES_DIR).filter((x) => x.endsWith('.yaml'))) {
    try {
      if (loadProfile(join(PROFILES_DIR, f)).profile.node === node) return join(PROFILES_DIR, f);
    } catch { /* an invalid profile of another node is not our concern here */ }
  }
  throw new FlashError(`no profile for node "${node}": none named ${node}.yaml or with "node: ${node}" in ${PROFILES_DIR}; give --profile FILE (a copy of profiles/sample-robot.yaml with node: ${node}, for example)`);
}

function targetsFrom(values: Record<string, string | boolean | undefined>): Target[] {
  if (values.port !== undefined) {
    if (values.node !== undefined) throw new FlashError('give either --node or --port, not both');
    if (!values.board) throw new FlashError('--port needs --board uno|nano');
    return [{ id: String(values.port), port: String(values.port), model: String(values.board), baud: 57600 }];
  }
  if (values.node === undefined) throw new FlashError('say which board: --node ID, or --port PORT --board uno|nano (see kuroko flash --help)');
  if (values.board !== undefined) throw new FlashError('--board goes with --port; with --node the profile names the board model');
  const file = findNodeProfile(String(values.node), values.profile as string | undefined);
  const { profile } = loadProfile(file);
  let boards = profile.boards ?? [];
  if (values['board-id'] !== undefined) boards = boards.filter((b) => b.id === values['board-id']);
  if (!boards.length) {
    throw new FlashError(values['board-id'] !== undefined
      ? `profile ${file} has no board "${values['board-id']}" (boards: ${(profile.boards ?? []).map((b) => b.id).join(', ') || 'none'})`
      : `profile ${file} declares no boards: nothing to flash`);
  }
  return boards.map((b) => ({ id: b.id, port: b.port, model: b.model ?? 'uno', baud: b.baud ?? 57600 }));
}

/** Turns avrdude's output into the one sentence an operator needs. */
export function explainAvrdude(output: string, t: Target): string {
  if (/not responding|not in sync|resp=0x/i.test(output)) {
    return `no bootloader answered on ${t.port}: check the cable and port, press reset just before flashing, or for a Nano with the old bootloader add --upload-baud 57600`;
  }
  if (/signature/i.test(output) && /expected/i.test(output)) return `the board on ${t.port} is not an ATmega328P (${t.model} expected): wrong board or wrong --board`;
  if (/verification error|mismatch at/i.test(output)) return `verify failed on ${t.port}: the flash does not hold what was written (bad cable, power, or a worn chip); try again`;
  if (/can't open device|cannot open port|No such file/i.test(output)) return `cannot open ${t.port}: is it plugged in, and are you in the dialout group?`;
  if (/busy|lock/i.test(output)) return `${t.port} is busy: stop the Kuroko node (or anything else) holding it`;
  return `avrdude failed on ${t.port}`;
}

function runAvrdude(hex: string, t: Target, uploadBaud: number, attempts: number | undefined, io: FlashIo): Promise<void> {
  const args = ['-p', 'm328p', '-c', 'arduino', '-P', t.port, '-b', String(uploadBaud), ...(attempts ? ['-x', `attempts=${attempts}`] : []), '-U', `flash:w:${hex}:i`];
  io.out(`  avrdude ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    let output = '';
    let partial = '';
    const child = spawn('avrdude', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // A stuck avrdude (a port that never answers) must not hang the CLI forever.
    const kill = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', () => clearTimeout(kill));
    const onData = (d: Buffer) => {
      const text = d.toString();
      output += text;
      // Report avrdude's own milestones, one line each, as they complete.
      const lines = (partial + text).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const l of lines) {
        const m = /(Device signature = .*|\d+ bytes of flash (written|verified)|erasing chip)/i.exec(l);
        if (m) io.out(`  ${m[1]}`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e: NodeJS.ErrnoException) => reject(new FlashError(e.code === 'ENOENT' ? 'avrdude is not installed (Debian package: avrdude)' : `avrdude: ${e.message}`)));
    child.on('close', (code) => {
      if (code === 0 && /bytes of flash verified/.test(output)) return resolve();
      if (code === 0) return reject(new FlashError(`avrdude finished on ${t.port} without verifying the flash`));
      reject(new FlashError(`${explainAvrdude(output, t)}\n  avrdude said: ${output.trim().split('\n').filter((l) => /error|not|fail|mismatch|expected/i.test(l)).slice(-3).join(' | ') || `exit ${code}`}`));
    });
  });
}

/** Opens a board and reads the firmware name and version it reports; null when nothing answers as Firmata. */
export async function readBoardFirmware(port: string, baud: number): Promise<{ name: string; major: number; minor: number } | null> {
  let opened;
  try {
    opened = await openSerialFirmata(port, baud);
  } catch {
    return null;
  }
  try {
    const fw = opened.io.firmware;
    return { name: fw?.name ?? '(unknown)', major: fw?.version?.major ?? -1, minor: fw?.version?.minor ?? -1 };
  } finally {
    await opened.close();
  }
}

/** Opens the flashed board and checks it answers with the expected firmware name and version. */
async function checkFirmware(t: Target, io: FlashIo, expected: ExpectedFirmware = THIS_FIRMWARE): Promise<void> {
  // A board may take a while to come up after its reset (a slow bootloader, a busy host): ask twice more.
  let fw = null;
  for (let attempt = 1; attempt <= 3 && !fw; attempt++) fw = await readBoardFirmware(t.port, t.baud);
  if (!fw) throw new FlashError(`the board on ${t.port} did not answer after flashing (no Firmata reply in 3 tries of 5 s)`);
  const version = `${fw.major}.${fw.minor}`;
  if (fw.name !== expected.name || fw.major !== expected.major || fw.minor !== expected.minor) {
    throw new FlashError(`the board on ${t.port} answers as "${fw.name}" ${version}, not ${expected.name} ${expected.major}.${expected.minor}`);
  }
  io.out(`  board answers: ${fw.name} ${version}`);
}

/** Flashes one board with a .hex through its bootloader, and checks what it answers afterwards. */
export async function flashBoard(t: Target, hex: string, io: FlashIo, opts: { uploadBaud?: number; attempts?: number; expected?: ExpectedFirmware } = {}): Promise<void> {
  if (!SUPPORTED.has(t.model)) throw new FlashError(`board "${t.id}" is a ${t.model}: the Kuroko firmware runs on uno and nano (ATmega328P) only`);
  if (!existsSync(t.port)) throw new FlashError(`no port ${t.port}: is the board plugged in? (see ls /dev/serial/by-id/)`);
  await runAvrdude(hex, t, opts.uploadBaud ?? 115200, opts.attempts, io);
  await checkFirmware(t, io, opts.expected);
}

export async function runFlashCli(argv: string[], io: FlashIo = consoleIo): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        node: { type: 'string' }, profile: { type: 'string' }, 'board-id': { type: 'string' },
        port: { type: 'string' }, board: { type: 'string' }, hex: { type: 'string' },
        'upload-baud': { type: 'string' }, attempts: { type: 'string' }, 'no-check': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    io.err(flagErrorMessage('flash', e as Error & { code?: string }));
    return 2;
  }
  if (values.help) { io.out(FLASH_HELP); return 0; }
  try {
    const uploadBaud = values['upload-baud'] === undefined ? 115200 : Number(values['upload-baud']);
    if (!Number.isInteger(uploadBaud) || uploadBaud <= 0) throw new FlashError(`--upload-baud must be a number, not "${values['upload-baud']}"`);
    const attempts = values.attempts === undefined ? undefined : Number(values.attempts);
    if (attempts !== undefined && !(Number.isInteger(attempts) && attempts >= 1 && attempts <= 99)) throw new FlashError(`--attempts must be 1..99, not "${values.attempts}"`);
    const targets = targetsFrom(values);
    for (const t of targets) {
      if (!SUPPORTED.has(t.model)) throw new FlashError(`board "${t.id}" is a ${t.model}: the Kuroko firmware runs on uno and nano (ATmega328P) only`);
    }
    let hex = values.hex as string | undefined;
    if (hex) {
      if (!existsSync(hex)) throw new FlashError(`no firmware file ${hex}`);
    } else {
      io.out(`building Kuroko firmware ${FIRMWARE_VERSION_TEXT}...`);
      try {
        hex = buildFirmware();
      } catch (e) {
        // A node without the AVR toolchain can still flash a firmware built elsewhere.
        if (e instanceof BuildError && existsSync(FIRMWARE_HEX)) { io.err(`  build failed, using the existing ${FIRMWARE_HEX}`); hex = FIRMWARE_HEX; }
        else throw new FlashError((e as Error).message);
      }
    }
    for (const t of targets) {
      io.out(`flashing ${t.id} (${t.model}) on ${t.port}`);
      if (!existsSync(t.port)) throw new FlashError(`no port ${t.port}: is the board plugged in? (see ls /dev/serial/by-id/)`);
      await runAvrdude(hex, t, uploadBaud, attempts, io);
      if (!values['no-check']) await checkFirmware(t, io);
      io.out(`done: ${t.id} runs ${FIRMWARE_NAME} ${FIRMWARE_VERSION_TEXT}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof FlashError || e instanceof DocumentError) { io.err(`kuroko flash: ${e.message}`); return 1; }
    io.err(`kuroko flash: unexpected error: ${(e as Error).stack ?? e}`);
    return 1;
  }
}
