#!/usr/bin/env node
// A thin bin: everything testable lives in the CLI bundle (src/cli/process.ts wires it to the process);
// this only answers --version fast and loads the bundle with its code cache.
// CommonJS on purpose: Node starts it without the ES module loader.
'use strict';

if (require.main === module) {
  const { version } = require('../package.json');
  if (process.argv.length === 3 && process.argv[2] === '--version') {
    // Scripts call this to probe for the tool: answer without loading the program at all.
    process.stdout.write(`${version}\n`);
  } else {
    const cli = loadBundle(require('node:path').join(__dirname, '..', 'dist', 'c8ytoken.cjs'));
    cli.runAsProcess(process, cli.main, version);
  }
}

/**
 * Loads the bundle like require() does, but each file with V8's code cache made at build time
 * (scripts/bundle.js, FILE.v8cache beside it): compiling the program is the largest part of its
 * start-up. The bundle requires its chunks (dist/chunks/, "./NAME.cjs") when a command first needs
 * them; they are loaded the same way, each once. A cache from another Node version is rejected by V8
 * and the file is simply compiled, as require() would. scripts/code-cache.cjs passes its own maps:
 * `modules` (file to module, to load more files into the same program) and `scripts` (file to
 * vm.Script, to make the caches from).
 */
function loadBundle(entry, { modules = new Map(), scripts } = {}) {
  const fs = require('node:fs');
  const path = require('node:path');
  const vm = require('node:vm');
  const external = require('node:module').createRequire(entry);
  const load = (file) => {
    let module = modules.get(file);
    if (module) return module.exports;
    let cachedData;
    try {
      cachedData = fs.readFileSync(`${file}.v8cache`);
    } catch {
      // no cache: compile
    }
    const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8')}\n})`, { filename: file, cachedData });
    scripts?.set(file, script);
    module = { exports: {} };
    modules.set(file, module);
    const dir = path.dirname(file);
    const require_ = (id) => (id.startsWith('./') ? load(path.join(dir, id)) : external(id));
    script.runInThisContext()(module.exports, require_, module, file, dir);
    return module.exports;
  };
  return load(entry);
}

module.exports = { loadBundle };
