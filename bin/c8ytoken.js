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
 * and the file is simply compiled, as require() would.
 *
 * `pack` names a file that holds the files one command loads (dist/chunks/pack-COMMAND.cjs, made by
 * scripts/code-cache.cjs): one read and one script instead of one per file; the same code, and what a
 * command loads that is not in it still comes from its own file. A pack may name, instead of a file's
 * code, the pack that holds it (the network path, the keystore readers: what only some runs load); that
 * pack is read when the first of its files is required, so a run that never needs them never reads it.
 * scripts/code-cache.cjs passes its own maps: `modules` (file to module, to load more files into the
 * same program) and `scripts` (file to vm.Script, to make the caches from).
 */
function loadBundle(entry, { modules = new Map(), scripts, pack } = {}) {
  const fs = require('node:fs');
  const path = require('node:path');
  const vm = require('node:vm');
  // Built-in modules from this file's require; packages (js-yaml) from the bundle's folder, with a
  // require made when first needed (loading node:module for it cost every start 0.3 ms).
  let fromEntry;
  const external = (id) => process.getBuiltinModule?.(id) ?? (fromEntry ??= require('node:module').createRequire(entry))(id);
  entry = path.resolve(entry); // the files' names below are joined to its folder by hand
  const dist = path.dirname(entry);
  const compile = (file, source) => {
    let cachedData;
    try {
      cachedData = fs.readFileSync(`${file}.v8cache`);
    } catch {
      // no cache: compile
    }
    const script = new vm.Script(source, { filename: file, cachedData });
    scripts?.set(file, script);
    return script.runInThisContext();
  };
  // A pack is `({ "FILE": function (exports, require, module, __filename, __dirname) {...}, "OTHER": "PACK", ... })`,
  // FILE, OTHER and PACK relative to dist/: OTHER's code is in PACK.
  const packed = {};
  const readPack = (name) => {
    let source;
    try {
      source = fs.readFileSync(name, 'utf8');
    } catch {
      return; // no pack (a build without one): the files
    }
    Object.assign(packed, compile(name, source));
  };
  if (pack) readPack(pack);
  const load = (file) => {
    let module = modules.get(file);
    if (module) return module.exports;
    const name = file.slice(dist.length + 1).replaceAll('\\', '/');
    let factory = Object.hasOwn(packed, name) ? packed[name] : undefined;
    if (typeof factory === 'string') {
      // Read once: its files replace the names pointing to it; should it be missing, they are dropped.
      const other = factory;
      for (const [n, p] of Object.entries(packed)) if (p === other) delete packed[n];
      readPack(`${dist}${path.sep}${other.replaceAll('/', path.sep)}`);
      factory = Object.hasOwn(packed, name) ? packed[name] : undefined;
    }
    factory ??= compile(file, `(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(file, 'utf8')}\n})`);
    module = { exports: {} };
    modules.set(file, module);
    const dir = path.dirname(file);
    // "./NAME.cjs", "./chunks/NAME.cjs": joined by hand (path.join was a tenth of a cached fetch's own time)
    const require_ = (id) => (id.startsWith('./') ? load(`${dir}${path.sep}${id.slice(2).replaceAll('/', path.sep)}`) : LAZY_BUILTINS.has(id) ? lazyBuiltin(id) : external(id));
    factory(module.exports, require_, module, file, dir);
    return module.exports;
  };
  return load(entry);
}

/**
 * The commands with a pack (the ones started most often: by scripts, cron, a service's ExecStartPre),
 * and the pack each reads. exec gets a token as fetch does: fetch's pack holds most of what it loads
 * (its own runner and the token keeper come from their files), and names the network pack.
 */
const PACKED = { inspect: 'inspect', fetch: 'fetch', exec: 'fetch' };

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
  // Read, not required: require() resolves and wraps a JSON module (0.47 ms against 0.23 here).
  const { version } = JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '..', 'package.json'), 'utf8'));
  if (process.argv.length === 3 && process.argv[2] === '--version') {
    // Scripts call this to probe for the tool: answer without loading the program at all.
    process.stdout.write(`${version}\n`);
  } else {
    const path = require('node:path');
    // The command is the first word that is no option, unless a program option's value comes first (then
    // no pack is used: the same program, from its files).
    const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
    const pack = Object.hasOwn(PACKED, command) ? path.join(__dirname, '..', 'dist', 'chunks', `pack-${PACKED[command]}.cjs`) : undefined;
    const cli = loadBundle(path.join(__dirname, '..', 'dist', 'c8ytoken.cjs'), { pack });
    cli.runAsProcess(process, cli.main, version);
  }
}
