#!/usr/bin/env node
// A thin bin: everything testable lives in the CLI bundle (src/cli/process.ts wires it to the process);
// this only answers --version fast and loads the bundle with its code cache.
// CommonJS on purpose: Node starts it without the ES module loader.
'use strict';

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
    const require_ = (id) => (id.startsWith('./') ? load(path.join(dir, id)) : LAZY_BUILTINS.has(id) ? lazyBuiltin(id) : external(id));
    script.runInThisContext()(module.exports, require_, module, file, dir);
    return module.exports;
  };
  return load(entry);
}

/**
 * Built-in modules a chunk names but most runs never use (a cached fetch needs no crypto or network stack;
 * inspect no fs/promises): each is loaded when a property of it is first read. The bundle reads them that
 * way: esbuild's CommonJS output keeps `require("node:crypto")` in a variable and reads `createHash` from
 * it at each call. Loading node:crypto alone is about a quarter of what a cached fetch adds to bare Node.
 * Only modules whose exports are a plain object: a Proxy of one cannot stand for a function.
 */
const LAZY_BUILTINS = new Set(['node:crypto', 'node:fs/promises', 'node:net', 'node:tls', 'node:https', 'node:http', 'node:os', 'node:child_process', 'node:zlib', 'node:dns', 'node:readline']);
const lazyBuiltins = new Map();
function lazyBuiltin(id) {
  let lazy = lazyBuiltins.get(id);
  if (!lazy) {
    let loaded;
    const real = () => (loaded ??= require(id));
    lazy = new Proxy(
      {},
      {
        get: (_, key) => real()[key],
        has: (_, key) => key in real(),
        ownKeys: () => Reflect.ownKeys(real()),
        // configurable: the Proxy's target ({}) does not have the property, and a Proxy may not say otherwise
        getOwnPropertyDescriptor: (_, key) => {
          const d = Reflect.getOwnPropertyDescriptor(real(), key);
          return d && { ...d, configurable: true };
        },
      },
    );
    lazyBuiltins.set(id, lazy);
  }
  return lazy;
}

module.exports = { loadBundle };

// Last: the constants above are set before the program runs.
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
