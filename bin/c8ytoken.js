#!/usr/bin/env node
// A thin bin: everything testable lives in the CLI module; this only wires the process to it.
// CommonJS on purpose (bin/package.json): Node starts it without the ES module loader.
'use strict';

const argv = process.argv.slice(2);
const { version } = require('../package.json');
// `c8ytoken ... | head` closes the pipe early: that is the reader's choice, not an error to report.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
if (argv.length === 1 && argv[0] === '--version') {
  // Scripts call this to probe for the tool: answer without loading the program at all.
  process.stdout.write(`${version}\n`);
} else {
  const { main } = loadBundle(require('node:path').join(__dirname, '..', 'dist', 'c8ytoken.cjs'));
  const controller = new AbortController();
  // 128 + signal number: 130 for SIGINT, 143 for SIGTERM (the shell convention scripts expect).
  const onSignal = (signal) => {
    controller.abort(signal);
    // A second signal, or a command that does not stop, must not keep the process alive.
    setTimeout(() => process.exit(signal === 'SIGINT' ? 130 : 143), 1000).unref();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  main(argv, {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: () => process.stdin,
    stdinIsTTY: require('node:tty').isatty(0),
    env: process.env,
    cwd: process.cwd(),
    signal: controller.signal,
    version,
    // SIGHUP asks `watch` to refresh now; Windows has no SIGHUP to send.
    onRefreshRequest: (callback) => {
      if (process.platform === 'win32') return () => undefined;
      process.on('SIGHUP', callback);
      return () => process.off('SIGHUP', callback);
    },
  }).then((code) => {
    process.exitCode = controller.signal.aborted ? (controller.signal.reason === 'SIGINT' ? 130 : 143) : code;
  });
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
