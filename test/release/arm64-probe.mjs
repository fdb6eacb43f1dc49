// Run inside an unpacked arm64 bundle by an arm64 Node under qemu (test/release/bundle-arm64.test.ts):
// loads every native part the bundle ships and prints what it found as one JSON line.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const out = { arch: process.arch, node: process.version };

const gpio = require('./native/gpio/binding.cjs').load();
const rec = Buffer.alloc(48);
rec.writeUInt32LE(1, 8);
rec.writeUInt32LE(17, 12);
const ev = gpio.decodeEvents(rec)[0];
out.gpioEvent = { ...ev, timestampNs: String(ev.timestampNs) };
try { gpio.chipInfo('/dev/gpiochip-none'); } catch (e) { out.gpioError = e.code; }

const gypBuild = require('node-gyp-build');
const serialDir = require.resolve('@serialport/bindings-cpp/package.json').replace(/package\.json$/, '');
out.serialBinary = gypBuild.path(serialDir).slice(serialDir.length);
out.serialOpen = typeof gypBuild(serialDir).open;

out.epoll = typeof require('epoll').Epoll;
out.onoffAccessible = require('onoff').Gpio.accessible;

const { loadCausalLM } = await import('./dist/models/runtime/index.js');
const lm = await loadCausalLM('dist/models/kuroko-tiny', { logger: { info() {}, debug() {}, warn() {}, error() {} } });
const r = await lm.complete('KENZAKI:', { maxNewTokens: 6, seed: 1 });
out.modelTokens = r.tokens;
out.modelText = typeof r.text;
// The compiled CLI, as a node runs it (the bundle has no tsx at all).
const { runValidateCli } = await import('./dist/bin/validate.js');
out.validate = await runValidateCli(['dist/hub/shows/blade.yaml', 'dist/firmware-config/profiles/sim-robot.yaml']);
console.log(JSON.stringify(out));
process.exit(0);
