// Loads the kuroko_gpio addon built or fetched for this machine (package.json "binary":
// native/gpio/lib/binding/napi-v8-<platform>-<arch>/kuroko_gpio.node). CommonJS, because
// process.dlopen goes through require. Throws an error that says how to get the binary.
'use strict';
const { join } = require('node:path');
const { existsSync } = require('node:fs');

const NAPI = 8;
const file = join(__dirname, 'lib', 'binding', `napi-v${NAPI}-${process.platform}-${process.arch}`, 'kuroko_gpio.node');

function load() {
  if (!existsSync(file)) {
    const err = new Error(`the GPIO character-device addon is not built for ${process.platform}-${process.arch} (${file} is missing): ` +
      'run `npm run addon:build` (needs g++, make, python3), or install from a release bundle, which carries it prebuilt');
    err.code = 'KUROKO_GPIO_MISSING';
    throw err;
  }
  return require(file);
}

module.exports = { load, file };
