#!/usr/bin/env node
// `npm install` step for the kuroko_gpio addon (package.json "install" script):
//  1. a binary for this machine is already in place (a release bundle carries it) → done;
//  2. a mirror is configured (npm config kuroko_gpio_binary_host_mirror, e.g. an http:// mirror or
//     file:///…/prebuilt/ of an unpacked release bundle) → node-pre-gyp fetches it, and builds
//     from source if the mirror has no binary for this machine;
//  3. otherwise → built from source (g++, make, python3).
// It never fails the install: only nodes whose GPIO has no sysfs need the addon, and the e-stop
// refuses to start with a message saying how to get it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ROOT, NODE_PRE_GYP, binaryPath, gypEnv } from './build.js';

const arch = process.arch;
if (process.platform !== 'linux') {
  console.log(`kuroko_gpio: skipped on ${process.platform} (the GPIO character device is Linux only)`);
  process.exit(0);
}
if (existsSync(binaryPath(arch))) {
  console.log(`kuroko_gpio: ${binaryPath(arch).slice(ROOT.length)} is in place`);
  process.exit(0);
}
const mirror = process.env.npm_config_kuroko_gpio_binary_host_mirror;
const args = mirror ? ['install', '--fallback-to-build'] : ['install', '--build-from-source'];
console.log(mirror ? `kuroko_gpio: fetching from ${mirror}` : 'kuroko_gpio: no mirror configured (npm config kuroko_gpio_binary_host_mirror); building from source');
const r = spawnSync(process.execPath, [NODE_PRE_GYP, ...args], { cwd: ROOT, env: gypEnv(arch), encoding: 'utf8' });
if (r.status === 0 && existsSync(binaryPath(arch))) {
  const via = /installed via remote/.test(r.stdout) ? 'fetched from the mirror' : 'built from source';
  console.log(`kuroko_gpio: ${via}: ${binaryPath(arch).slice(ROOT.length)}`);
} else {
  console.warn(`kuroko_gpio: not installed (${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}).\n` +
    '  Only nodes without sysfs GPIO (Pi 5 on new kernels, Jetson) need it: install g++ make python3 and run npm run addon:build.');
}
