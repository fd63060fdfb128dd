// The entry of the standalone binaries (Node's single executable applications): bundled by esbuild with
// dist/c8ytoken.cjs and everything it requires into one CommonJS file (scripts/release/sea-bundle.js),
// which the binary runs instead of bin/c8ytoken.js. It wires the process to the program exactly as
// bin/c8ytoken.js does; the version is put in at build time (C8YTOKEN_VERSION, from package.json), as
// there is no package.json beside a binary to read it from.
'use strict';

/* global C8YTOKEN_VERSION */
const argv = process.argv.slice(2);
const version = C8YTOKEN_VERSION;
// `c8ytoken ... | head` closes the pipe early: that is the reader's choice, not an error to report.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});
if (argv.length === 1 && argv[0] === '--version') {
  // Scripts call this to probe for the tool: answer without starting the program (esbuild runs a
  // bundled module's top level only when it is first required).
  process.stdout.write(`${version}\n`);
} else {
  const { main } = require('../../dist/c8ytoken.cjs');
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
