#!/usr/bin/env node
// A thin bin: everything testable lives in the CLI bundle (src/cli/process.ts wires it to the process);
// this only answers --version fast and loads the bundle with its code cache.
// CommonJS on purpose: Node starts it without the ES module loader.
'use strict';

const { version } = require('../package.json');
if (process.argv.length === 3 && process.argv[2] === '--version') {
  // Scripts call this to probe for the tool: answer without loading the program at all.
  process.stdout.write(`${version}\n`);
} else {
  const cli = loadBundle(require('node:path').join(__dirname, '..', 'dist', 'c8ytoken.cjs'));
  cli.runAsProcess(process, cli.main, version);
}

/**
 * Loads the bundle like require() does, but with V8's code cache made at build time
 * (scripts/bundle.js): compiling the program is the largest part of its start-up. A cache from another
 * Node version is rejected by V8 and the bundle is simply compiled, as require() would.
 */
function loadBundle(file) {
  const fs = require('node:fs');
  const vm = require('node:vm');
  let cachedData;
  try {
    cachedData = fs.readFileSync(`${file}.v8cache`);
  } catch {
    // no cache: compile
  }
  const source = fs.readFileSync(file, 'utf8');
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
  });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require('node:module').createRequire(file), module, file, require('node:path').dirname(file));
  return module.exports;
}
