/**
 * The Kuroko firmware version, read from firmware-config/firmware/VERSION: the one file both the
 * C build (build.sh passes it to the compiler) and the host (flash check, backend) read.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const FIRMWARE_NAME = 'Kuroko';
const text = readFileSync(fileURLToPath(new URL('./VERSION', import.meta.url)), 'utf8').trim();
const m = /^(\d+)\.(\d+)$/.exec(text);
if (!m) throw new Error(`firmware-config/firmware/VERSION must read MAJOR.MINOR, not "${text}"`);
export const FIRMWARE_VERSION = { major: Number(m[1]), minor: Number(m[2]) };
export const FIRMWARE_VERSION_TEXT = text;
